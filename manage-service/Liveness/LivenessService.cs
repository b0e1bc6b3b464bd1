using Monitor.ManageService.Hosts;

namespace Monitor.ManageService.Liveness;

/// <summary>A liveness listing and when its InfluxDB data was read.</summary>
internal sealed record LivenessReport(IReadOnlyList<HostLivenessEntry> Hosts, TimeSpan Window, DateTimeOffset EvaluatedAt);

/// <summary>Joins the registered hosts (MySQL) with the last-seen times (InfluxDB).</summary>
internal sealed class LivenessService(HostStore store, LivenessTracker tracker, TimeProvider timeProvider)
{
    public async Task<LivenessReport> ListAsync(LivenessState? state, string? location, CancellationToken cancellationToken)
    {
        HostValidator.ValidateLocation(location);
        await tracker.EnsureFreshAsync(cancellationToken).ConfigureAwait(false);
        var now = timeProvider.GetUtcNow();
        var lastSeen = tracker.LastSeen;
        var registered = await store.ListAllAsync(cancellationToken).ConfigureAwait(false);
        var registeredIds = registered.Select(h => h.HostId).ToHashSet(StringComparer.Ordinal);
        var candidates = LivenessClassifier.RecentlySeen(lastSeen, now, tracker.Window).Where(id => !registeredIds.Contains(id)).ToList();
        var deleted = await store.DeletedAmongAsync(candidates, cancellationToken).ConfigureAwait(false);

        IEnumerable<HostLivenessEntry> hosts = LivenessClassifier.Classify(registered, deleted, lastSeen, now, tracker.Window);
        if (state is { } s)
        {
            hosts = hosts.Where(h => h.State == s);
        }
        if (!string.IsNullOrEmpty(location))
        {
            hosts = hosts.Where(h => h.Location == location);
        }
        return new LivenessReport(hosts.ToList(), tracker.Window, tracker.LastRefreshed ?? now);
    }

    /// <summary>Hosts that report data but are not registered (found from InfluxDB's data, not a fixed list).</summary>
    public async Task<IReadOnlyList<HostLivenessEntry>> FindNotManagedAsync(CancellationToken cancellationToken) =>
        (await ListAsync(LivenessState.Unregistered, null, cancellationToken).ConfigureAwait(false)).Hosts;
}
