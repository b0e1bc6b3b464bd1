namespace Monitor.Prober.Targets;

/// <summary>
/// The targets this prober runs, merged from its sources: static configuration (source
/// <see cref="StaticSource"/>, which wins on a name clash) and the manage service's target stream.
/// Each source replaces its own whole list; the <c>Changed</c> task of a <see cref="Snapshot"/>
/// completes on every publication.
/// </summary>
internal sealed class TargetStore
{
    public const string StaticSource = "static";
    public const string ManageSource = "manage";

    private readonly Lock _lock = new();
    private readonly SortedDictionary<string, IReadOnlyList<TargetDefinition>> _sources = new(StringComparer.Ordinal);
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

    /// <summary>The list last published by <paramref name="source"/>.</summary>
    public IReadOnlyList<TargetDefinition> Of(string source)
    {
        lock (_lock)
        {
            return _sources.GetValueOrDefault(source) ?? [];
        }
    }

    /// <summary>Replaces the whole list of one source (names are unique; the static source wins, then the first).</summary>
    public void Publish(string source, IEnumerable<TargetDefinition> targets)
    {
        TaskCompletionSource previous;
        lock (_lock)
        {
            _sources[source] = targets.ToList();
            var merged = _sources.GetValueOrDefault(StaticSource, []).AsEnumerable();
            foreach (var (name, list) in _sources)
            {
                if (name != StaticSource)
                {
                    merged = merged.Concat(list);
                }
            }
            _targets = merged.DistinctBy(t => t.Name, StringComparer.Ordinal).ToList();
            _version++;
            previous = _changed;
            _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        previous.TrySetResult();
    }
}
