namespace Monitor.Prober.Targets;

/// <summary>
/// The targets this prober runs, as last published by a target source (static configuration, the
/// manage service's target stream). the <c>Changed</c> task of a <see cref="Snapshot"/> completes on every publication.
/// </summary>
internal sealed class TargetStore
{
    private readonly Lock _lock = new();
    private IReadOnlyList<TargetDefinition> _targets = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _version;

    public (IReadOnlyList<TargetDefinition> Targets, long Version, Task Changed) Snapshot()
    {
        lock (_lock)
        {
            return (_targets, _version, _changed.Task);
        }
    }

    /// <summary>Replaces the whole list (names are unique; a later duplicate is ignored).</summary>
    public void Publish(IEnumerable<TargetDefinition> targets)
    {
        TaskCompletionSource previous;
        lock (_lock)
        {
            _targets = targets.DistinctBy(t => t.Name, StringComparer.Ordinal).ToList();
            _version++;
            previous = _changed;
            _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        previous.TrySetResult();
    }
}
