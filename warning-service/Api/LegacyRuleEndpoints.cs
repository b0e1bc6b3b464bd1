using System.Globalization;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using Monitor.ServiceDefaults.Auth;
using Monitor.WarningService.Notifications;
using Monitor.WarningService.Options;
using Monitor.WarningService.Rules;

namespace Monitor.WarningService.Api;

/// <summary>The original system's rule settings, in its exact shape (thresholds are fractions: 0.2 = 20 %).</summary>
internal sealed class LegacyRule
{
    public double? CpuNoteworthyThreshold { get; set; }
    public double? CpuSeriousThreshold { get; set; }
    public double? CpuDeadlyThreshold { get; set; }
    public double? MemNoteworthyThreshold { get; set; }
    public double? MemSeriousThreshold { get; set; }
    public double? MemDeadlyThreshold { get; set; }
    public string? Granularity { get; set; }
    public string? AggregateFunction { get; set; }
    public string? ContactEmail { get; set; }
}

/// <summary>The original's <c>{CODE, MSG, DATA}</c> envelope.</summary>
internal sealed record LegacyEnvelope<T>(
    [property: JsonPropertyName("CODE")] int Code,
    [property: JsonPropertyName("MSG")] string Msg,
    [property: JsonPropertyName("DATA")] T? Data);

/// <summary>
/// <c>GET/POST /rule</c> of the original system, mapped onto two fleet-wide rules (<c>legacy-cpu</c> on
/// <c>cpu_rate</c>, <c>legacy-mem</c> on <c>mem_rate</c>, percent) and an email channel <c>legacy-email</c>.
/// </summary>
internal static partial class LegacyRuleEndpoints
{
    /// <summary>The original's property names are PascalCase.</summary>
    private static readonly System.Text.Json.JsonSerializerOptions Json = new() { PropertyNamingPolicy = null };

    public const string CpuRule = "legacy-cpu";
    public const string MemRule = "legacy-mem";
    public const string EmailChannel = "legacy-email";

    public static IEndpointRouteBuilder MapLegacyRuleApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/rule", async (RuleService rules, ChannelService channels, CancellationToken ct) =>
        {
            var cpu = await rules.FindByNameAsync(CpuRule, ct).ConfigureAwait(false);
            var mem = await rules.FindByNameAsync(MemRule, ct).ConfigureAwait(false);
            var email = (await channels.ListAsync(ct).ConfigureAwait(false)).FirstOrDefault(c => c.Name == EmailChannel);
            var any = cpu ?? mem;
            var data = new LegacyRule
            {
                CpuNoteworthyThreshold = Fraction(cpu?.Spec.Bands.Info),
                CpuSeriousThreshold = Fraction(cpu?.Spec.Bands.Warning),
                CpuDeadlyThreshold = Fraction(cpu?.Spec.Bands.Critical),
                MemNoteworthyThreshold = Fraction(mem?.Spec.Bands.Info),
                MemSeriousThreshold = Fraction(mem?.Spec.Bands.Warning),
                MemDeadlyThreshold = Fraction(mem?.Spec.Bands.Critical),
                Granularity = any is null ? "1m" : FormatGranularity(any.Spec.WindowSeconds),
                AggregateFunction = any?.Spec.Aggregation ?? "mean",
                ContactEmail = email?.EmailTo ?? "",
            };
            return Results.Json(new LegacyEnvelope<LegacyRule>(200, "Find success!", data), Json);
        }).WithMetadata(new RequireRoleAttribute(MonitorRole.Viewer));

        app.MapPost("/rule", async (LegacyRule? body, RuleService rules, ChannelService channels, IOptions<WarningOptions> options, HttpContext http, CancellationToken ct) =>
        {
            if (body is null)
            {
                return Error(400, "body: a rule is required");
            }
            var errors = new List<string>();
            var window = ParseGranularity(body.Granularity);
            if (window is null)
            {
                errors.Add("Granularity: expected a duration like 30s, 1m, 5m, 1h");
            }
            var aggregation = (body.AggregateFunction ?? "mean").ToLowerInvariant();
            CheckFractions("Cpu", body.CpuNoteworthyThreshold, body.CpuSeriousThreshold, body.CpuDeadlyThreshold, errors);
            CheckFractions("Mem", body.MemNoteworthyThreshold, body.MemSeriousThreshold, body.MemDeadlyThreshold, errors);
            if (errors.Count > 0)
            {
                return Error(400, string.Join("; ", errors));
            }
            var channelNames = new List<string>();
            if (!string.IsNullOrWhiteSpace(body.ContactEmail))
            {
                var o = options.Value;
                var (channel, channelErrors, _) = await channels.UpsertAsync(EmailChannel, new ChannelRequest
                {
                    Name = EmailChannel,
                    Type = ChannelTypes.Email,
                    SmtpHost = o.LegacySmtpHost,
                    SmtpPort = o.LegacySmtpPort,
                    EmailFrom = o.LegacyEmailFrom,
                    EmailTo = [.. body.ContactEmail.Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)],
                }, WarningEndpoints.Caller(http), ct).ConfigureAwait(false);
                if (channel is null)
                {
                    return Error(400, "ContactEmail: " + string.Join("; ", channelErrors.SelectMany(kv => kv.Value)));
                }
                channelNames.Add(EmailChannel);
            }
            var caller = WarningEndpoints.Caller(http);
            foreach (var (name, metric, info, warning, critical) in new[]
            {
                (CpuRule, "cpu_rate", body.CpuNoteworthyThreshold, body.CpuSeriousThreshold, body.CpuDeadlyThreshold),
                (MemRule, "mem_rate", body.MemNoteworthyThreshold, body.MemSeriousThreshold, body.MemDeadlyThreshold),
            })
            {
                var spec = new RuleSpec
                {
                    Name = name,
                    Metric = metric,
                    Scope = new RuleScope { Kind = "all" },
                    Aggregation = aggregation,
                    WindowSeconds = window!.Value,
                    Comparator = "gt",
                    Bands = new SeverityBands { Info = Percent(info), Warning = Percent(warning), Critical = Percent(critical) },
                    Channels = channelNames,
                };
                var existing = await rules.FindByNameAsync(name, ct).ConfigureAwait(false);
                var change = existing is null
                    ? await rules.CreateAsync(spec, caller, ct).ConfigureAwait(false)
                    : await rules.UpdateAsync(existing.Id, spec, caller, ct).ConfigureAwait(false);
                if (change.Errors is { Count: > 0 } e)
                {
                    return Error(400, string.Join("; ", e.Select(kv => $"{kv.Key}: {string.Join(", ", kv.Value)}")));
                }
            }
            return Results.Json(new LegacyEnvelope<LegacyRule>(200, "Update success!", body), Json);
        }).WithMetadata(new RequireRoleAttribute(MonitorRole.Editor));
        return app;
    }

    private static IResult Error(int code, string message) => Results.Json(new LegacyEnvelope<object>(code, message, null), Json, statusCode: code);

    private static void CheckFractions(string prefix, double? noteworthy, double? serious, double? deadly, List<string> errors)
    {
        var present = new[] { ("Noteworthy", noteworthy), ("Serious", serious), ("Deadly", deadly) }.Where(x => x.Item2 is not null).ToList();
        if (present.Count == 0)
        {
            errors.Add($"{prefix}NoteworthyThreshold: at least one {prefix} threshold is required");
            return;
        }
        foreach (var (name, v) in present)
        {
            if (v is < 0 or > 1 || !double.IsFinite(v!.Value))
            {
                errors.Add($"{prefix}{name}Threshold: must be a fraction between 0 and 1 (0.2 = 20 %)");
            }
        }
        for (int i = 1; i < present.Count; i++)
        {
            if (present[i].Item2 <= present[i - 1].Item2)
            {
                errors.Add($"{prefix}{present[i].Item1}Threshold: thresholds in the wrong order, must be above {prefix}{present[i - 1].Item1}Threshold");
            }
        }
    }

    private static double? Percent(double? fraction) => fraction is { } f ? Math.Round(f * 100, 6) : null;

    private static double? Fraction(double? percent) => percent is { } p ? Math.Round(p / 100, 8) : null;

    internal static double? ParseGranularity(string? text)
    {
        var m = Granularity().Match(text ?? "1m");
        if (!m.Success)
        {
            return null;
        }
        var n = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        var seconds = m.Groups[2].Value switch { "s" => n, "m" => n * 60, "h" => n * 3600, _ => n * 86400 };
        return seconds is > 0 and <= 86400 ? seconds : null;
    }

    internal static string FormatGranularity(double seconds) => seconds switch
    {
        > 0 when seconds % 3600 == 0 => $"{(seconds / 3600).ToString(CultureInfo.InvariantCulture)}h",
        > 0 when seconds % 60 == 0 => $"{(seconds / 60).ToString(CultureInfo.InvariantCulture)}m",
        _ => $"{seconds.ToString(CultureInfo.InvariantCulture)}s",
    };

    [GeneratedRegex(@"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")]
    private static partial Regex Granularity();
}
