using Monitor.ManageService.Data;

namespace Monitor.ManageService.Liveness;

internal enum LivenessState
{
    Reporting,
    Silent,
    Unregistered,
    DeletedButReporting,
}

/// <summary>Liveness of one host. Times are UTC.</summary>
internal sealed record HostLivenessEntry(
    string HostId,
    LivenessState State,
    string? Location,
    DateTimeOffset? LastSeenAt,
    DateTimeOffset? SilentSince,
    DateTimeOffset? DeletedAt);

/// <summary>The liveness rules, kept free of I/O.</summary>
internal static class LivenessClassifier
{
    /// <summary>
    /// Registered hosts are reporting (data within the window) or silent (since their last sample, or since
    /// registration if none was seen). Hosts with data within the window that are not registered are unregistered, or
    /// deleted-but-reporting when their latest row is a deletion. Deleted or unknown hosts without recent data are
    /// not listed.
    /// </summary>
    public static List<HostLivenessEntry> Classify(
        IEnumerable<HostEntity> registered,
        IReadOnlyDictionary<string, DateTime> deleted,
        IReadOnlyDictionary<string, DateTimeOffset> lastSeen,
        DateTimeOffset now,
        TimeSpan window)
    {
        var windowStart = now - window;
        var result = new List<HostLivenessEntry>();
        var known = new HashSet<string>(StringComparer.Ordinal);
        foreach (var host in registered)
        {
            known.Add(host.HostId);
            DateTimeOffset? seen = lastSeen.TryGetValue(host.HostId, out var t) ? t : null;
            if (seen > windowStart)
            {
                result.Add(new HostLivenessEntry(host.HostId, LivenessState.Reporting, host.Location, seen, null, null));
            }
            else
            {
                var since = seen ?? new DateTimeOffset(host.CreatedAt, TimeSpan.Zero);
                result.Add(new HostLivenessEntry(host.HostId, LivenessState.Silent, host.Location, seen, since, null));
            }
        }
        foreach (var (hostId, seen) in lastSeen)
        {
            if (known.Contains(hostId) || seen <= windowStart)
            {
                continue;
            }
            result.Add(deleted.TryGetValue(hostId, out var deletedAt)
                ? new HostLivenessEntry(hostId, LivenessState.DeletedButReporting, null, seen, null, new DateTimeOffset(deletedAt, TimeSpan.Zero))
                : new HostLivenessEntry(hostId, LivenessState.Unregistered, null, seen, null, null));
        }
        result.Sort((a, b) => string.CompareOrdinal(a.HostId, b.HostId));
        return result;
    }

    /// <summary>Host ids that reported within the window (candidates for unregistered / deleted-but-reporting).</summary>
    public static List<string> RecentlySeen(IReadOnlyDictionary<string, DateTimeOffset> lastSeen, DateTimeOffset now, TimeSpan window) =>
        lastSeen.Where(kv => kv.Value > now - window).Select(kv => kv.Key).ToList();
}
