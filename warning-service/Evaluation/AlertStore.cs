using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Monitor.WarningService.Data;
using Monitor.WarningService.Notifications;
using Monitor.WarningService.Rules;
using MySqlConnector;

namespace Monitor.WarningService.Evaluation;

/// <summary>
/// Persists evaluated state in one transaction: alert records for transitions, outbox rows for their
/// notifications, and the (rule, host) states. The consumer commits its offsets only after this returned.
/// </summary>
internal sealed class AlertStore(IDbContextFactory<WarningDbContext> dbFactory, NotificationPlanner planner, TimeProvider timeProvider)
{
    public async Task<List<AlertStateEntity>> LoadPartitionsAsync(IReadOnlyCollection<int> partitions, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        return await db.AlertStates.AsNoTracking().Where(s => partitions.Contains(s.Partition)).ToListAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<List<AlertStateEntity>> LoadHostAsync(string hostId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        return await db.AlertStates.AsNoTracking().Where(s => s.HostId == hostId).ToListAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes <paramref name="events"/> and the dirty <paramref name="entries"/>; returns the number of notifications queued.</summary>
    public async Task<int> PersistAsync(IReadOnlyList<StateEvent> events, IReadOnlyList<StateEntry> entries, CancellationToken cancellationToken, Fence? fence = null)
    {
        if (events.Count == 0 && entries.Count == 0)
        {
            return 0;
        }
        var nowMs = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var strategy = db.Database.CreateExecutionStrategy();
        return await strategy.ExecuteAsync(async () =>
        {
            db.ChangeTracker.Clear();
            await using var tx = await db.Database.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            if (fence is not null)
            {
                await CheckFenceAsync(db, fence, nowMs, cancellationToken).ConfigureAwait(false);
            }
            var queued = 0;
            var silences = events.Count > 0 ? await NotificationPlanner.ActiveSilencesAsync(db, nowMs, cancellationToken).ConfigureAwait(false) : [];
            foreach (var e in events)
            {
                queued += await ApplyEventAsync(db, e, silences, nowMs, cancellationToken).ConfigureAwait(false);
            }
            await UpsertStatesAsync(db, entries, nowMs, cancellationToken).ConfigureAwait(false);
            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            foreach (var entry in entries)
            {
                entry.Dirty = false;
            }
            return queued;
        }).ConfigureAwait(false);
    }

    /// <summary>
    /// Ends everything of a decommissioned host in one transaction: its firing alerts become resolved (no recovery
    /// value: the host is gone, not healthy) with a <c>resolved</c> notification, and its (rule, host) states are
    /// removed. Idempotent. Returns the alerts ended and the notifications queued.
    /// </summary>
    public async Task<(int Ended, int Queued)> EndHostAlertsAsync(string hostId, CancellationToken cancellationToken)
    {
        var nowMs = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var strategy = db.Database.CreateExecutionStrategy();
        return await strategy.ExecuteAsync(async () =>
        {
            db.ChangeTracker.Clear();
            await using var tx = await db.Database.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            var (ended, queued) = await EndFiringAsync(db, planner, a => a.HostId == hostId, nowMs, cancellationToken).ConfigureAwait(false);
            await db.AlertStates.Where(s => s.HostId == hostId).ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false);
            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            return (ended, queued);
        }).ConfigureAwait(false);
    }

    /// <summary>
    /// Inside the caller's transaction: resolves the firing alerts matching <paramref name="filter"/> without a recovery
    /// value (their host or rule was retired, nothing recovered) and queues a <c>resolved</c> notice to each alert's
    /// channels. Returns the alerts ended and the notices queued.
    /// </summary>
    internal static async Task<(int Ended, int Queued)> EndFiringAsync(
        WarningDbContext db, NotificationPlanner planner, System.Linq.Expressions.Expression<Func<AlertEntity, bool>> filter, long nowMs, CancellationToken cancellationToken)
    {
        var open = await db.Alerts.AsNoTracking().Where(filter).Where(a => a.State == Phases.Firing).ToListAsync(cancellationToken).ConfigureAwait(false);
        if (open.Count == 0)
        {
            return (0, 0);
        }
        var silences = await NotificationPlanner.ActiveSilencesAsync(db, nowMs, cancellationToken).ConfigureAwait(false);
        var (ended, queued) = (0, 0);
        foreach (var alert in open)
        {
            // Every instance may retire the same alert at once (each watches deletions): the conditional update is a
            // current read under the row lock, so only the transaction that flips it queues the resolve notice.
            var flipped = await db.Alerts.Where(a => a.Id == alert.Id && a.State == Phases.Firing).ExecuteUpdateAsync(u => u
                .SetProperty(a => a.State, Phases.Resolved)
                .SetProperty(a => a.ResolvedAtMs, nowMs)
                .SetProperty(a => a.ResolvedValue, (double?)null), cancellationToken).ConfigureAwait(false);
            if (flipped == 0)
            {
                continue;
            }
            alert.State = Phases.Resolved;
            alert.ResolvedAtMs = nowMs;
            alert.ResolvedValue = null;
            ended++;
            var channels = JsonSerializer.Deserialize<List<string>>(alert.ChannelsJson) ?? [];
            queued += await planner.EnqueueAsync(db, alert, NotificationKinds.Resolved, channels, silences, nowMs, cancellationToken).ConfigureAwait(false);
        }
        return (ended, queued);
    }

    public async Task<List<AlertStateEntity>> LoadElectedAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        return await db.AlertStates.AsNoTracking().Where(s => s.Partition == ElectedPartition).ToListAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The <c>Partition</c> value of states owned by the elected evaluator rather than a Kafka partition.</summary>
    public const int ElectedPartition = -2;

    /// <summary>
    /// Raises the fence to our token (the etcd revision at which we were elected) and fails if a newer leader
    /// already raised it higher: a deposed leader that has not noticed yet cannot write.
    /// </summary>
    private static async Task CheckFenceAsync(WarningDbContext db, Fence fence, long nowMs, CancellationToken cancellationToken)
    {
        await db.Database.ExecuteSqlAsync(
            $"INSERT INTO leader_fences (Name, Token, Holder, UpdatedAtMs) VALUES ({fence.Name}, {fence.Token}, {fence.Holder}, {nowMs}) ON DUPLICATE KEY UPDATE Holder = IF(VALUES(Token) >= Token, VALUES(Holder), Holder), Token = GREATEST(Token, VALUES(Token)), UpdatedAtMs = VALUES(UpdatedAtMs)",
            cancellationToken).ConfigureAwait(false);
        var current = await db.LeaderFences.AsNoTracking().Where(f => f.Name == fence.Name).Select(f => f.Token).FirstAsync(cancellationToken).ConfigureAwait(false);
        if (current != fence.Token)
        {
            throw new FencedOutException(fence.Token, current);
        }
    }

    private async Task<int> ApplyEventAsync(WarningDbContext db, StateEvent e, List<SilenceEntity> silences, long nowMs, CancellationToken cancellationToken)
    {
        var spec = e.Rule.Spec;
        var state = e.Entry.State;
        AlertEntity? alert;
        string kind;
        switch (e.Transition.Kind)
        {
            case TransitionKind.Fired:
                alert = new AlertEntity
                {
                    RuleId = e.Rule.Id,
                    RuleVersion = e.Rule.Version,
                    RuleName = spec.Name,
                    HostId = e.Entry.HostId,
                    Metric = spec.Metric,
                    Comparator = spec.Comparator,
                    Severity = e.Transition.Severity ?? Severities.Warning,
                    State = Phases.Firing,
                    Value = e.Transition.Value,
                    Threshold = e.Transition.Threshold,
                    BreachValuesJson = JsonSerializer.Serialize(e.BreachValues),
                    WindowStartMs = e.PendingSinceMs,
                    WindowEndMs = e.SampleMs,
                    ConsecutiveCount = e.Count,
                    ConsecutiveNeeded = e.Rule.Thresholds.ConsecutiveBreaches,
                    FiredAtMs = e.SampleMs,
                    LastNotifiedAtMs = nowMs,
                    RepeatIntervalMs = (long)(spec.RepeatIntervalSeconds * 1000),
                    ChannelsJson = JsonSerializer.Serialize(spec.Channels),
                };
                db.Alerts.Add(alert);
                await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
                state.AlertId = alert.Id;
                kind = NotificationKinds.Firing;
                break;
            case TransitionKind.Escalated:
                alert = state.AlertId is { } escalatedId ? await db.Alerts.FindAsync([escalatedId], cancellationToken).ConfigureAwait(false) : null;
                if (alert is null)
                {
                    return 0;
                }
                alert.Severity = e.Transition.Severity ?? alert.Severity;
                alert.Threshold = e.Transition.Threshold;
                alert.Value = e.Transition.Value;
                alert.LastNotifiedAtMs = nowMs;
                await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
                kind = NotificationKinds.Escalated;
                break;
            case TransitionKind.Resolved:
                alert = state.AlertId is { } resolvedId ? await db.Alerts.FindAsync([resolvedId], cancellationToken).ConfigureAwait(false) : null;
                if (alert is null)
                {
                    return 0;
                }
                alert.State = Phases.Resolved;
                alert.ResolvedAtMs = e.SampleMs;
                alert.ResolvedValue = e.Transition.Value;
                await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
                if (!spec.NotifyOnResolve)
                {
                    return 0;
                }
                kind = NotificationKinds.Resolved;
                break;
            default:
                return 0;
        }
        return await planner.EnqueueAsync(db, alert, kind, spec.Channels, silences, nowMs, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>One multi-row <c>INSERT ... ON DUPLICATE KEY UPDATE</c>: the row may or may not exist, and another instance may have written it during a rebalance.</summary>
    private static async Task UpsertStatesAsync(WarningDbContext db, IReadOnlyList<StateEntry> entries, long nowMs, CancellationToken cancellationToken)
    {
        const int chunk = 200;
        for (int start = 0; start < entries.Count; start += chunk)
        {
            var part = entries.Skip(start).Take(chunk).ToList();
            var sql = new StringBuilder("INSERT INTO alert_states (RuleId, HostId, RuleVersion, Phase, Count, Severity, PendingSinceMs, LastSampleMs, LastValue, BreachValuesJson, AlertId, `Partition`, UpdatedAtMs) VALUES ");
            var parameters = new List<MySqlParameter>();
            for (int i = 0; i < part.Count; i++)
            {
                var e = part[i];
                var s = e.State;
                if (i > 0)
                {
                    sql.Append(',');
                }
                var p = parameters.Count;
                sql.Append('(');
                for (int j = 0; j < 13; j++)
                {
                    sql.Append(j == 0 ? "@p" : ",@p").Append(p + j);
                }
                sql.Append(')');
                object[] values = [e.RuleId, e.HostId, s.RuleVersion, s.Phase, s.Count, (object?)s.Severity ?? DBNull.Value, s.PendingSinceMs, s.LastSampleMs,
                    double.IsFinite(s.LastValue) ? s.LastValue : 0, JsonSerializer.Serialize(s.BreachValues), (object?)s.AlertId ?? DBNull.Value, e.Partition, nowMs];
                for (int j = 0; j < values.Length; j++)
                {
                    parameters.Add(new MySqlParameter("@p" + (p + j).ToString(System.Globalization.CultureInfo.InvariantCulture), values[j]));
                }
            }
            sql.Append(" ON DUPLICATE KEY UPDATE RuleVersion=VALUES(RuleVersion), Phase=VALUES(Phase), Count=VALUES(Count), Severity=VALUES(Severity), ")
                .Append("PendingSinceMs=VALUES(PendingSinceMs), LastSampleMs=VALUES(LastSampleMs), LastValue=VALUES(LastValue), ")
                .Append("BreachValuesJson=VALUES(BreachValuesJson), AlertId=VALUES(AlertId), `Partition`=VALUES(`Partition`), UpdatedAtMs=VALUES(UpdatedAtMs)");
#pragma warning disable EF1002 // Only parameter names are formatted into the SQL; every value is a parameter.
            await db.Database.ExecuteSqlRawAsync(sql.ToString(), parameters, cancellationToken).ConfigureAwait(false);
#pragma warning restore EF1002
        }
    }
}

/// <summary>The fencing token of a leader: name of the fenced role, etcd revision of the election, and who holds it.</summary>
internal sealed record Fence(string Name, long Token, string Holder);

/// <summary>A newer leader exists: this one must stop acting.</summary>
internal sealed class FencedOutException(long token, long current) : Exception($"fenced out: our token {token}, current {current}")
{
    public long Token { get; } = token;
    public long Current { get; } = current;
}
