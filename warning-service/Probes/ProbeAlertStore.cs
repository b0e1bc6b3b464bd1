using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Monitor.WarningService.Data;
using Monitor.WarningService.Evaluation;
using Monitor.WarningService.Notifications;
using Monitor.WarningService.Rules;
using MySqlConnector;

namespace Monitor.WarningService.Probes;

/// <summary>
/// Persists probe state in one transaction: alert records for transitions (with the failure messages as evidence),
/// outbox rows for their notifications, and the (rule, host, target) states. The probe consumer commits its offsets
/// only after this returned.
/// </summary>
internal sealed class ProbeAlertStore(
    IDbContextFactory<WarningDbContext> dbFactory,
    NotificationPlanner planner,
    ProbeTargetDirectory targets,
    TimeProvider timeProvider)
{
    public async Task<List<ProbeAlertStateEntity>> LoadPartitionsAsync(IReadOnlyCollection<int> partitions, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        return await db.ProbeAlertStates.AsNoTracking().Where(s => partitions.Contains(s.Partition)).ToListAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<List<ProbeAlertStateEntity>> LoadHostAsync(string hostId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        return await db.ProbeAlertStates.AsNoTracking().Where(s => s.HostId == hostId).ToListAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes <paramref name="events"/> and the dirty <paramref name="entries"/>; returns the number of notifications queued.</summary>
    public async Task<int> PersistAsync(IReadOnlyList<ProbeStateEvent> events, IReadOnlyList<ProbeStateEntry> entries, CancellationToken cancellationToken)
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
    /// A point before a read of the target list: the newest alert id and the time. What
    /// <see cref="EndRetiredTargetsAsync"/> retires must be older, so a target created after the read is left alone.
    /// </summary>
    public async Task<(long MaxAlertId, long AtMs)> WatermarkAsync(CancellationToken cancellationToken)
    {
        var atMs = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var max = await db.Alerts.MaxAsync(a => (long?)a.Id, cancellationToken).ConfigureAwait(false) ?? 0;
        return (max, atMs);
    }

    /// <summary>
    /// Ends what belongs to targets that are no longer live (deleted, or paused) according to a target list read after
    /// <paramref name="watermark"/>, among the targets the manage service has listed (<paramref name="managed"/>; others
    /// are not its to retire): their firing probe alerts become resolved without a recovery value (the target was
    /// retired, it did not recover) with a <c>resolved</c> notice, and their (rule, host, target) states are removed.
    /// Only alerts and states older than the watermark are considered. Idempotent, and safe when every instance runs
    /// it. Returns the targets retired, alerts ended and notices queued.
    /// </summary>
    public async Task<(List<string> Targets, int Ended, int Queued)> EndRetiredTargetsAsync(
        IReadOnlySet<string> live, IReadOnlySet<string> managed, (long MaxAlertId, long AtMs) watermark, CancellationToken cancellationToken)
    {
        var (maxId, readAtMs) = watermark;
        var nowMs = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var firing = await db.Alerts.AsNoTracking().Where(a => a.State == Phases.Firing && a.Target != null && a.Id <= maxId)
            .Select(a => a.Target!).Distinct().ToListAsync(cancellationToken).ConfigureAwait(false);
        var stated = await db.ProbeAlertStates.AsNoTracking().Where(s => s.UpdatedAtMs < readAtMs)
            .Select(s => s.Target).Distinct().ToListAsync(cancellationToken).ConfigureAwait(false);
        var retired = firing.Concat(stated).Where(t => !live.Contains(t) && managed.Contains(t)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (retired.Count == 0)
        {
            return ([], 0, 0);
        }
        var strategy = db.Database.CreateExecutionStrategy();
        var (ended, queued) = await strategy.ExecuteAsync(async () =>
        {
            db.ChangeTracker.Clear();
            await using var tx = await db.Database.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            var (ended, queued) = (0, 0);
            foreach (var target in retired)
            {
                var (e, q) = await AlertStore.EndFiringAsync(db, planner, a => a.Target == target && a.Id <= maxId, nowMs, cancellationToken).ConfigureAwait(false);
                await db.ProbeAlertStates.Where(s => s.Target == target && s.UpdatedAtMs < readAtMs).ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false);
                ended += e;
                queued += q;
            }
            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            return (ended, queued);
        }).ConfigureAwait(false);
        return (retired, ended, queued);
    }

    /// <summary>The channels a probe alert goes to: the rule's, plus the target's when the rule says so.</summary>
    internal List<string> ChannelsFor(RuleSpec spec, string target)
    {
        var channels = new List<string>(spec.Channels);
        if (spec.UseTargetChannels)
        {
            channels.AddRange(targets.ChannelsOf(target));
        }
        return channels.Distinct(StringComparer.Ordinal).ToList();
    }

    private async Task<int> ApplyEventAsync(WarningDbContext db, ProbeStateEvent e, List<SilenceEntity> silences, long nowMs, CancellationToken cancellationToken)
    {
        var spec = e.Rule.Spec;
        var state = e.Entry.State;
        AlertEntity? alert;
        string kind;
        List<string> channels;
        if (e.Kind == TransitionKind.Fired)
        {
            channels = ChannelsFor(spec, e.Entry.Target);
            alert = new AlertEntity
            {
                RuleId = e.Rule.Id,
                RuleVersion = e.Rule.Version,
                RuleName = spec.Name,
                HostId = e.Entry.HostId,
                Metric = ProbeRules.Metric,
                Comparator = "lt",
                Severity = ProbeRules.Severity(spec),
                State = Phases.Firing,
                Value = 0,
                Threshold = 1,
                BreachValuesJson = JsonSerializer.Serialize(Enumerable.Repeat(0.0, e.Failures).ToArray()),
                WindowStartMs = e.FirstFailureMs,
                WindowEndMs = e.SampleMs,
                ConsecutiveCount = e.Failures,
                ConsecutiveNeeded = Math.Max(1, spec.ConsecutiveBreaches),
                FiredAtMs = e.SampleMs,
                LastNotifiedAtMs = nowMs,
                RepeatIntervalMs = (long)(spec.RepeatIntervalSeconds * 1000),
                ChannelsJson = JsonSerializer.Serialize(channels),
                Target = e.Entry.Target,
                EvidenceJson = JsonSerializer.Serialize(e.Messages),
            };
            db.Alerts.Add(alert);
            await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
            state.AlertId = alert.Id;
            kind = NotificationKinds.Firing;
        }
        else if (e.Kind == TransitionKind.Resolved)
        {
            alert = state.AlertId is { } id ? await db.Alerts.FindAsync([id], cancellationToken).ConfigureAwait(false) : null;
            if (alert is not { State: Phases.Firing })
            {
                return 0; // gone, or already ended because its target was retired: no second resolve notice
            }
            alert.State = Phases.Resolved;
            alert.ResolvedAtMs = e.SampleMs;
            alert.ResolvedValue = 1;
            await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
            if (!spec.NotifyOnResolve)
            {
                return 0;
            }
            channels = JsonSerializer.Deserialize<List<string>>(alert.ChannelsJson) ?? [];
            kind = NotificationKinds.Resolved;
        }
        else
        {
            return 0;
        }
        return await planner.EnqueueAsync(db, alert, kind, channels, silences, nowMs, cancellationToken).ConfigureAwait(false);
    }

    private static async Task UpsertStatesAsync(WarningDbContext db, IReadOnlyList<ProbeStateEntry> entries, long nowMs, CancellationToken cancellationToken)
    {
        const int chunk = 200;
        for (int start = 0; start < entries.Count; start += chunk)
        {
            var part = entries.Skip(start).Take(chunk).ToList();
            var sql = new StringBuilder("INSERT INTO probe_alert_states (RuleId, HostId, Target, RuleVersion, Phase, Failures, FirstFailureMs, LastSampleMs, MessagesJson, AlertId, `Partition`, UpdatedAtMs) VALUES ");
            var parameters = new List<MySqlParameter>();
            for (int i = 0; i < part.Count; i++)
            {
                var e = part[i];
                var s = e.State;
                sql.Append(i > 0 ? ",(" : "(");
                object[] values = [e.RuleId, e.HostId, e.Target, s.RuleVersion, s.Phase, s.Failures, s.FirstFailureMs, s.LastSampleMs,
                    JsonSerializer.Serialize(s.Messages), (object?)s.AlertId ?? DBNull.Value, e.Partition, nowMs];
                for (int j = 0; j < values.Length; j++)
                {
                    var name = "@p" + parameters.Count.ToString(CultureInfo.InvariantCulture);
                    sql.Append(j == 0 ? name : "," + name);
                    parameters.Add(new MySqlParameter(name, values[j]));
                }
                sql.Append(')');
            }
            sql.Append(" ON DUPLICATE KEY UPDATE RuleVersion=VALUES(RuleVersion), Phase=VALUES(Phase), Failures=VALUES(Failures), ")
                .Append("FirstFailureMs=VALUES(FirstFailureMs), LastSampleMs=VALUES(LastSampleMs), MessagesJson=VALUES(MessagesJson), ")
                .Append("AlertId=VALUES(AlertId), `Partition`=VALUES(`Partition`), UpdatedAtMs=VALUES(UpdatedAtMs)");
#pragma warning disable EF1002 // Only parameter names are formatted into the SQL; every value is a parameter.
            await db.Database.ExecuteSqlRawAsync(sql.ToString(), parameters, cancellationToken).ConfigureAwait(false);
#pragma warning restore EF1002
        }
    }
}
