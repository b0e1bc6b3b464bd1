using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Monitor.AnalyzeService.Options;

/// <summary>
/// Raw-data retention and the rollups Monitor computes itself (section <c>Retention</c>). Rollups are written back
/// through the line-protocol writer into the retention policies <see cref="Rollup1mPolicy"/> and
/// <see cref="Rollup1hPolicy"/> (same measurement names, fields mean/min/max/sum/count), so they need no continuous
/// queries. On InfluxDB 2.x/3.x map each retention policy to its own bucket (DBRP mapping) with the same retention.
/// </summary>
public sealed class RetentionOptions
{
    public const string SectionName = "Retention";

    /// <summary>Whether the rollup worker runs (and queries may use rollups). The default is <see langword="true"/>.</summary>
    public bool RollupsEnabled { get; set; } = true;

    /// <summary>
    /// Whether Monitor creates the rollup retention policies and sets the raw retention on the database's default
    /// retention policy at start-up (InfluxDB 1.x). Turn off on 2.x/3.x, where buckets carry the retention.
    /// The default is <see langword="true"/>.
    /// </summary>
    public bool ManageRetentionPolicies { get; set; } = true;

    /// <summary>How long raw samples are kept. The default is 7 days.</summary>
    [Range(typeof(TimeSpan), "01:00:00", "3650.00:00:00")]
    public TimeSpan RawRetention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How long 1-minute rollups are kept. The default is 90 days.</summary>
    [Range(typeof(TimeSpan), "01:00:00", "3650.00:00:00")]
    public TimeSpan Rollup1mRetention { get; set; } = TimeSpan.FromDays(90);

    /// <summary>How long 1-hour rollups are kept. The default is 730 days (2 years).</summary>
    [Range(typeof(TimeSpan), "01:00:00", "36500.00:00:00")]
    public TimeSpan Rollup1hRetention { get; set; } = TimeSpan.FromDays(730);

    /// <summary>Retention policy holding the 1-minute rollups. The default is <c>rollup_1m</c>.</summary>
    [Required]
    [RegularExpression("^[A-Za-z0-9_]{1,64}$")]
    public string Rollup1mPolicy { get; set; } = "rollup_1m";

    /// <summary>Retention policy holding the 1-hour rollups. The default is <c>rollup_1h</c>.</summary>
    [Required]
    [RegularExpression("^[A-Za-z0-9_]{1,64}$")]
    public string Rollup1hPolicy { get; set; } = "rollup_1h";

    /// <summary>How often the rollup worker looks for completed windows. The default is 30 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan RollupInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long after a window ends it is rolled up, so late samples (agent spool, persistence flush) are included. The default is 30 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan RollupLag { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How far back the worker rolls up after it starts (rollups are idempotent, so repeating a window is harmless). The default is 2 hours.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "3650.00:00:00")]
    public TimeSpan RollupBackfill { get; set; } = TimeSpan.FromHours(2);
}

[OptionsValidator]
internal sealed partial class RetentionOptionsValidator : IValidateOptions<RetentionOptions>;

/// <summary>Cross-field rules of <see cref="RetentionOptions"/>.</summary>
internal sealed class RetentionOptionsCustomValidator : IValidateOptions<RetentionOptions>
{
    public ValidateOptionsResult Validate(string? name, RetentionOptions options)
    {
        var builder = new ValidateOptionsResultBuilder();
        if (string.Equals(options.Rollup1mPolicy, options.Rollup1hPolicy, StringComparison.Ordinal))
        {
            builder.AddError("must differ from Retention:Rollup1mPolicy", $"{RetentionOptions.SectionName}:{nameof(RetentionOptions.Rollup1hPolicy)}");
        }
        return builder.Build();
    }
}
