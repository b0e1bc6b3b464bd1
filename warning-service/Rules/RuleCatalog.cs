using Microsoft.EntityFrameworkCore;
using Monitor.WarningService.Data;
using Monitor.WarningService.Evaluation;

namespace Monitor.WarningService.Rules;

/// <summary>One rule version ready for evaluation.</summary>
internal sealed class CompiledRule(long id, int version, RuleSpec spec)
{
    public long Id { get; } = id;
    public int Version { get; } = version;
    public RuleSpec Spec { get; } = spec;
    public RuleThresholds Thresholds { get; } = new(spec.Kind == RuleKinds.NoData ? NoDataThresholds(spec) : spec);
    public long WindowMs { get; } = (long)(spec.WindowSeconds * 1000);

    /// <summary>Per-host rules evaluated from the stream (not no-data, not location/fleet aggregates).</summary>
    public bool IsStreamRule => Spec.Enabled && !Spec.AcrossHosts && Spec.Kind is RuleKinds.Threshold or RuleKinds.RateOfChange;

    /// <summary>No-data and across-hosts rules: evaluated by the elected instance from InfluxDB.</summary>
    public bool IsElectedRule => Spec.Enabled && (Spec.Kind == RuleKinds.NoData || (Spec.AcrossHosts && Spec.Kind is RuleKinds.Threshold or RuleKinds.RateOfChange));

    /// <summary>A no-data rule is a threshold on "seconds since the last sample": its severity band, or warning, at NoDataAfterSeconds.</summary>
    private static RuleSpec NoDataThresholds(RuleSpec spec)
    {
        var severity = spec.PresentBands().Select(b => b.Severity).LastOrDefault() ?? Severities.Warning;
        return new RuleSpec
        {
            Comparator = "gt",
            ConsecutiveBreaches = 1,
            Bands = new SeverityBands
            {
                Info = severity == Severities.Info ? spec.NoDataAfterSeconds : null,
                Warning = severity == Severities.Warning ? spec.NoDataAfterSeconds : null,
                Critical = severity == Severities.Critical ? spec.NoDataAfterSeconds : null,
            },
        };
    }

    public bool AppliesToHost(string hostId, Func<string, string?> locationOf) => Spec.Scope.Kind switch
    {
        "all" => true,
        "host" => Spec.Scope.Value == hostId,
        "location" => Spec.Scope.Value == locationOf(hostId),
        _ => false,
    };
}

/// <summary>The current rules and channels, reloaded from MySQL periodically and right after a local change.</summary>
internal sealed class RuleCatalog(IDbContextFactory<WarningDbContext> dbFactory) : IDisposable
{
    private readonly SemaphoreSlim _reloading = new(1, 1);
    private volatile IReadOnlyList<CompiledRule> _rules = [];
    private volatile IReadOnlyDictionary<string, ChannelEntity> _channels = new Dictionary<string, ChannelEntity>();

    public IReadOnlyList<CompiledRule> Rules => _rules;
    public IReadOnlyDictionary<string, ChannelEntity> Channels => _channels;
    public bool Loaded { get; private set; }

    /// <remarks>
    /// Reloads run one at a time: otherwise a periodic reload that read the tables before a change committed could
    /// finish after the reload that follows the change and put the old rules back until the next refresh.
    /// </remarks>
    public async Task ReloadAsync(CancellationToken cancellationToken)
    {
        await _reloading.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
            var rows = await db.Rules.AsNoTracking().Where(r => !r.Deleted).OrderBy(r => r.Id).ToListAsync(cancellationToken).ConfigureAwait(false);
            var channels = await db.Channels.AsNoTracking().ToListAsync(cancellationToken).ConfigureAwait(false);
            _rules = rows.Select(r => new CompiledRule(r.Id, r.CurrentVersion, RuleSpec.FromJson(r.SpecJson))).ToList();
            _channels = channels.ToDictionary(c => c.Name, StringComparer.Ordinal);
            Loaded = true;
        }
        finally
        {
            _reloading.Release();
        }
    }

    public void Dispose() => _reloading.Dispose();
}
