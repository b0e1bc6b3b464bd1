using Microsoft.EntityFrameworkCore;
using Monitor.WarningService.Data;
using Monitor.WarningService.Probes;

namespace Monitor.WarningService.Rules;

/// <summary>
/// Monitor's default self-monitoring rules (docs/observability.md): they watch the pseudo-hosts
/// <c>monitor.{kind}.{instance}</c> that every service feeds into the pipeline, and the agents' own spool figure.
/// Seeded once, at start-up, when no rule of that name exists or ever existed (a rule an operator deleted stays
/// deleted); enabled and editable like any other rule; marked built-in by the name prefix <see cref="NamePrefix"/> and
/// by <see cref="ChangedBy"/> on their first version.
/// </summary>
internal static class BuiltInRules
{
    public const string NamePrefix = "monitor: ";
    public const string ChangedBy = "built-in";

    public static IReadOnlyList<RuleSpec> All { get; } =
    [
        new()
        {
            // Persistence retries every failed write (backoff capped at Persistence:RetryMaxDelay, 15 s): any failure within a minute fires.
            Name = NamePrefix + "InfluxDB write failures",
            Metric = "monitor_persistence_write_failures",
            Aggregation = "max",
            WindowSeconds = 60,
            Comparator = "gt",
            Bands = new SeverityBands { Critical = 0 },
            ConsecutiveBreaches = 1,
        },
        new()
        {
            // The summed lag of the persistence consumer rising over five minutes.
            Name = NamePrefix + "consumer lag growing",
            Kind = RuleKinds.RateOfChange,
            Metric = "monitor_persistence_consumer_lag_sum",
            WindowSeconds = 300,
            Comparator = "gt",
            Bands = new SeverityBands { Warning = 0 },
            ConsecutiveBreaches = 3,
            ForSeconds = 300,
        },
        new()
        {
            Name = NamePrefix + "agent spool non-empty",
            Metric = "agent_spool_batches",
            Aggregation = "min",
            WindowSeconds = 300,
            Comparator = "gt",
            Bands = new SeverityBands { Warning = 0 },
            ConsecutiveBreaches = 1,
            ForSeconds = 300,
        },
        new()
        {
            Name = NamePrefix + "dead-letter queue growing",
            Metric = "monitor_persistence_dead_lettered",
            Aggregation = "max",
            WindowSeconds = 300,
            Comparator = "gt",
            Bands = new SeverityBands { Warning = 0 },
            ConsecutiveBreaches = 1,
        },
        new()
        {
            // Manage reports how many expected service kinds have no live instance in the etcd registry.
            Name = NamePrefix + "service kind without live instance",
            Metric = "monitor_registry_kinds_without_instances",
            Aggregation = "min",
            WindowSeconds = 60,
            Comparator = "gt",
            Bands = new SeverityBands { Critical = 0 },
            ConsecutiveBreaches = 1,
        },
        new()
        {
            // A report instance's registry entry disappeared (lease expired or revoked) within the last five minutes.
            Name = NamePrefix + "report instance lost",
            Metric = "monitor_registry_lost_instances",
            LabelFilter = new Dictionary<string, string> { ["kind"] = "report" },
            Aggregation = "max",
            WindowSeconds = 300,
            Comparator = "gt",
            Bands = new SeverityBands { Warning = 0 },
            ConsecutiveBreaches = 1,
        },
    ];
}

/// <summary>
/// Seeds <see cref="BuiltInRules"/> and then the default probe rule (<see cref="ProbeRules.DefaultRule"/>) at start-up
/// (after the migrations), one after the other, retrying until the database answers. Each is created unless a rule of
/// its name exists or ever existed. One pass for both: two seeders inserting rules side by side into a fresh table could
/// deadlock each other at a first start (retried, but logged as errors by EF Core).
/// </summary>
internal sealed partial class BuiltInRuleSeeder(
    IDbContextFactory<WarningDbContext> dbFactory,
    RuleService rules,
    TimeProvider timeProvider,
    ILogger<BuiltInRuleSeeder> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await SeedAsync(stoppingToken).ConfigureAwait(false);
                return;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is DbUpdateException or InvalidOperationException or MySqlConnector.MySqlException)
            {
                Log.SeedFailed(logger, ex);
            }
            await Task.Delay(TimeSpan.FromSeconds(5), timeProvider, stoppingToken).ConfigureAwait(false);
        }
    }

    internal async Task SeedAsync(CancellationToken cancellationToken)
    {
        foreach (var spec in BuiltInRules.All)
        {
            if (await SeedOnceAsync(spec.Name, () => RuleSpec.FromJson(spec.ToJson()), cancellationToken).ConfigureAwait(false) is { } id)
            {
                Log.Seeded(logger, spec.Name, id);
            }
        }
        if (await SeedOnceAsync(ProbeRules.DefaultRuleName, ProbeRules.DefaultRule, cancellationToken).ConfigureAwait(false) is not null)
        {
            Log.ProbeRuleSeeded(logger, ProbeRules.DefaultRuleName);
        }
    }

    /// <summary>Creates the rule unless one of that name exists or ever existed (deleted rules keep a <c>#deleted-</c> name); its id when created.</summary>
    private async Task<long?> SeedOnceAsync(string name, Func<RuleSpec> spec, CancellationToken cancellationToken)
    {
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false))
        {
            var deletedName = name + "#deleted-";
            if (await db.Rules.AsNoTracking().AnyAsync(r => r.Name == name || r.Name.StartsWith(deletedName), cancellationToken).ConfigureAwait(false))
            {
                return null;
            }
        }
        var change = await rules.CreateAsync(spec(), BuiltInRules.ChangedBy, cancellationToken).ConfigureAwait(false);
        if (change.Errors is { Count: > 0 } errors)
        {
            Log.Invalid(logger, name, string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(", ", e.Value)}")));
        }
        return change.Rule?.Id;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4090, EventName = "BuiltInRuleSeeded", Level = LogLevel.Information, Message = "Seeded built-in rule '{Name}' (id {Id})")]
        public static partial void Seeded(ILogger logger, string name, long id);

        [LoggerMessage(EventId = 7602, EventName = "ProbeRuleSeeded", Level = LogLevel.Information, Message = "Created the default probe rule '{Name}'")]
        public static partial void ProbeRuleSeeded(ILogger logger, string name);

        [LoggerMessage(EventId = 4092, EventName = "BuiltInRuleInvalid", Level = LogLevel.Warning, Message = "Built-in rule '{Name}' was refused: {Errors}")]
        public static partial void Invalid(ILogger logger, string name, string errors);

        [LoggerMessage(EventId = 4091, EventName = "BuiltInRuleSeedFailed", Level = LogLevel.Warning, Message = "Seeding the built-in rules or the default probe rule failed; retrying")]
        public static partial void SeedFailed(ILogger logger, Exception exception);
    }
}
