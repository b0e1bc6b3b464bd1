using Microsoft.EntityFrameworkCore;
using Monitor.WarningService.Data;

namespace Monitor.WarningService.Notifications;

internal static class NotificationKinds
{
    public const string Firing = "firing";
    public const string Escalated = "escalated";
    public const string Resolved = "resolved";
    public const string Repeat = "repeat";
}

internal static class NotificationStatuses
{
    public const string Pending = "pending";
    public const string Sending = "sending";
    public const string Sent = "sent";
    public const string Failed = "failed";
    public const string Silenced = "silenced";
}

/// <summary>Where a host is (location-scoped rules and silences); see <see cref="ManageHostDirectory"/>.</summary>
internal interface IHostLocationResolver
{
    string? LocationOf(string hostId);

    IReadOnlyList<string> HostsIn(string location);
}

/// <summary>Turns an alert transition into outbox rows, one per channel; a silenced one is recorded as such and never sent.</summary>
internal sealed class NotificationPlanner(IHostLocationResolver locations)
{
    public static async Task<List<SilenceEntity>> ActiveSilencesAsync(WarningDbContext db, long nowMs, CancellationToken cancellationToken) =>
        await db.Silences.AsNoTracking().Where(s => s.StartsAtMs <= nowMs && s.EndsAtMs > nowMs).ToListAsync(cancellationToken).ConfigureAwait(false);

    public SilenceEntity? Matching(IEnumerable<SilenceEntity> silences, AlertEntity alert)
    {
        string? location = null;
        var locationLooked = false;
        foreach (var s in silences)
        {
            if (s.RuleId is { } rule && rule != alert.RuleId)
            {
                continue;
            }
            if (!string.IsNullOrEmpty(s.HostId) && s.HostId != alert.HostId)
            {
                continue;
            }
            if (!string.IsNullOrEmpty(s.Location))
            {
                if (!locationLooked)
                {
                    location = locations.LocationOf(alert.HostId);
                    locationLooked = true;
                }
                if (location != s.Location && alert.HostId != s.Location)
                {
                    continue;
                }
            }
            return s;
        }
        return null;
    }

    /// <summary>Adds the rows and saves; returns how many will be sent (not silenced).</summary>
    public async Task<int> EnqueueAsync(WarningDbContext db, AlertEntity alert, string kind, IEnumerable<string> channels,
        List<SilenceEntity> silences, long nowMs, CancellationToken cancellationToken)
    {
        var silence = Matching(silences, alert);
        var queued = 0;
        foreach (var channel in channels.Distinct(StringComparer.Ordinal))
        {
            db.Notifications.Add(new NotificationEntity
            {
                AlertId = alert.Id,
                Channel = channel,
                Kind = kind,
                Status = silence is null ? NotificationStatuses.Pending : NotificationStatuses.Silenced,
                SilenceId = silence?.Id,
                CreatedAtMs = nowMs,
            });
            queued += silence is null ? 1 : 0;
        }
        await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        return queued;
    }
}
