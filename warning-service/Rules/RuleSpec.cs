using System.Text.Json;
using System.Text.Json.Serialization;

namespace Monitor.WarningService.Rules;

/// <summary>The definition of a rule, as stored (JSON) in every version row and exchanged on the HTTP API.</summary>
internal sealed class RuleSpec
{
    public string Name { get; set; } = "";

    /// <summary><c>threshold</c>, <c>rate_of_change</c>, <c>no_data</c> or <c>probe</c> (consecutive <c>probe_success</c> failures per target and agent).</summary>
    public string Kind { get; set; } = RuleKinds.Threshold;

    public string Metric { get; set; } = "";

    public Dictionary<string, string> LabelFilter { get; set; } = [];

    public RuleScope Scope { get; set; } = new();

    /// <summary>
    /// Evaluate one aggregate over all hosts of the scope (fleet or location) instead of each host on its own;
    /// done by the elected instance from InfluxDB.
    /// </summary>
    public bool AcrossHosts { get; set; }

    /// <summary><c>last</c>, <c>mean</c>, <c>max</c>, <c>min</c>, <c>p95</c>.</summary>
    public string Aggregation { get; set; } = "last";

    /// <summary>Aggregation window, seconds (0 = the latest sample only).</summary>
    public double WindowSeconds { get; set; }

    /// <summary><c>gt</c>, <c>ge</c>, <c>lt</c>, <c>le</c>.</summary>
    public string Comparator { get; set; } = "gt";

    public SeverityBands Bands { get; set; } = new();

    public int ConsecutiveBreaches { get; set; } = 3;

    /// <summary>The breach must also have lasted this long, seconds.</summary>
    public double ForSeconds { get; set; }

    /// <summary>Firing resolves only once the value is back past this (metric's unit); null = lowest band threshold.</summary>
    public double? RecoveryThreshold { get; set; }

    public List<string> Channels { get; set; } = [];

    /// <summary>Probe rules: also notify the channels configured on the probe target in the manage service.</summary>
    public bool UseTargetChannels { get; set; } = true;

    public bool Enabled { get; set; } = true;

    /// <summary>No-data rules: host silent this long fires, seconds.</summary>
    public double NoDataAfterSeconds { get; set; }

    public bool NotifyOnResolve { get; set; } = true;

    /// <summary>Re-send still-firing, unacknowledged alerts this often, seconds (0 = never).</summary>
    public double RepeatIntervalSeconds { get; set; }

    public string ToJson() => JsonSerializer.Serialize(this, RuleJson.Options);

    public static RuleSpec FromJson(string json) => JsonSerializer.Deserialize<RuleSpec>(json, RuleJson.Options)!;

    /// <summary>The band thresholds present, lowest severity first.</summary>
    public IEnumerable<(string Severity, double Threshold)> PresentBands()
    {
        if (Bands.Info is { } i)
        {
            yield return (Severities.Info, i);
        }
        if (Bands.Warning is { } w)
        {
            yield return (Severities.Warning, w);
        }
        if (Bands.Critical is { } c)
        {
            yield return (Severities.Critical, c);
        }
    }
}

/// <summary>Where a rule applies.</summary>
internal sealed class RuleScope
{
    /// <summary><c>host</c>, <c>location</c> or <c>all</c>.</summary>
    public string Kind { get; set; } = "all";

    /// <summary>Host id or location name; empty for <c>all</c>.</summary>
    public string? Value { get; set; }
}

/// <summary>One threshold per severity (the original's noteworthy / serious / deadly).</summary>
internal sealed class SeverityBands
{
    public double? Info { get; set; }
    public double? Warning { get; set; }
    public double? Critical { get; set; }
}

internal static class RuleKinds
{
    public const string Threshold = "threshold";
    public const string RateOfChange = "rate_of_change";
    public const string NoData = "no_data";
    public const string Probe = "probe";
}

internal static class Severities
{
    public const string Info = "info";
    public const string Warning = "warning";
    public const string Critical = "critical";

    public static int Rank(string? severity) => severity switch
    {
        Info => 1,
        Warning => 2,
        Critical => 3,
        _ => 0,
    };
}

internal static class RuleJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };
}
