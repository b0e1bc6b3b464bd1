using Microsoft.Extensions.Options;

namespace Monitor.ManageService.Probes;

/// <summary>Every target and the store revision, read once per change and shared by every watch stream.</summary>
internal sealed record ProbeSnapshot(long Revision, IReadOnlyList<ProbeTarget> Targets);

/// <summary>
/// Keeps one <see cref="ProbeSnapshot"/>; reloads it from the database when a change was signalled since it was read
/// or it is older than <c>Probes:ResyncInterval</c>.
/// </summary>
internal sealed class ProbeTargetCache(IServiceScopeFactory scopes, ProbeChangeNotifier notifier, IOptions<ProbeOptions> options, TimeProvider timeProvider) : IDisposable
{
    private readonly SemaphoreSlim _loading = new(1, 1);
    private ProbeSnapshot? _snapshot;
    private Task? _loadedBefore;
    private long _loadedAt;

    public async Task<ProbeSnapshot> GetAsync(CancellationToken cancellationToken)
    {
        if (Fresh() is { } fresh)
        {
            return fresh;
        }
        await _loading.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Fresh() is { } other)
            {
                return other;
            }
            var change = notifier.NextChange;
            await using var scope = scopes.CreateAsyncScope();
            var store = scope.ServiceProvider.GetRequiredService<ProbeTargetStore>();
            await store.EnsureSecretKeyAsync(cancellationToken).ConfigureAwait(false);
            var revision = await store.RevisionAsync(cancellationToken).ConfigureAwait(false);
            var targets = await store.ListAsync(cancellationToken).ConfigureAwait(false);
            _snapshot = new ProbeSnapshot(revision, targets);
            _loadedBefore = change;
            _loadedAt = timeProvider.GetTimestamp();
            return _snapshot;
        }
        finally
        {
            _loading.Release();
        }
    }

    private ProbeSnapshot? Fresh() =>
        _snapshot is { } s && _loadedBefore is { IsCompleted: false } && timeProvider.GetElapsedTime(_loadedAt) < options.Value.ResyncInterval ? s : null;

    public void Dispose() => _loading.Dispose();
}
