using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Monitor.WarningService.Data;

namespace Monitor.WarningService.Notifications;

/// <summary>A rendered notification: a title, a markdown/plain body, and the alert's fields for structured payloads.</summary>
internal sealed record RenderedMessage(string Title, string Text, IReadOnlyDictionary<string, string> Fields, IReadOnlyList<IReadOnlyDictionary<string, string>> Alerts);

/// <summary>
/// Renders an alert with the channel's template, or the default one. Templates use <c>{{field}}</c>
/// placeholders: alertId, kind, rule, ruleId, ruleVersion, host, metric, comparator, severity, state, value,
/// threshold, values, consecutive, needed, windowStart, windowEnd, firedAt, resolvedAt, resolvedValue.
/// </summary>
internal static partial class MessageTemplates
{
    public const string Default =
        """
        ### [{{KIND}}] {{severity}}: {{rule}} on {{host}}
        - **{{metric}}** = {{value}} ({{comparator}} {{threshold}})
        - breached {{consecutive}}/{{needed}} consecutive evaluations: {{values}}
        - window {{windowStart}} → {{windowEnd}}
        - fired at {{firedAt}}{{resolvedLine}}
        - rule #{{ruleId}} v{{ruleVersion}}, alert #{{alertId}}
        """;

    /// <summary>The default of probe alerts (extra placeholders: target, messages).</summary>
    public const string ProbeDefault =
        """
        ### [{{KIND}}] {{severity}}: probe target {{target}} seen from {{host}}
        - {{consecutive}}/{{needed}} consecutive failures
        - failures: {{messages}}
        - first failure {{windowStart}}, fired at {{firedAt}}{{resolvedLine}}
        - rule {{rule}} (#{{ruleId}} v{{ruleVersion}}), alert #{{alertId}}
        """;

    public static RenderedMessage Render(AlertEntity alert, string kind, string? template)
    {
        var fields = Fields(alert, kind);
        var text = Placeholder().Replace(string.IsNullOrWhiteSpace(template) ? (alert.Target is null ? Default : ProbeDefault) : template,
            m => fields.TryGetValue(m.Groups[1].Value, out var v) ? v : m.Value);
        var title = alert.Target is null
            ? $"[{kind.ToUpperInvariant()}] {alert.Severity}: {alert.RuleName} on {alert.HostId}"
            : $"[{kind.ToUpperInvariant()}] {alert.Severity}: probe {alert.Target} failing from {alert.HostId}";
        return new RenderedMessage(title, text, fields, [fields]);
    }

    /// <summary>One message for the same transition of one rule on several hosts: each alert rendered, under one title.</summary>
    public static RenderedMessage RenderGroup(IReadOnlyList<AlertEntity> alerts, string kind, string? template)
    {
        if (alerts.Count == 1)
        {
            return Render(alerts[0], kind, template);
        }
        var parts = alerts.Select(a => Render(a, kind, template)).ToList();
        var first = alerts[0];
        var hosts = string.Join(", ", alerts.Select(a => a.HostId));
        var fields = new Dictionary<string, string>(parts[0].Fields, StringComparer.Ordinal)
        {
            ["hosts"] = hosts,
            ["count"] = alerts.Count.ToString(CultureInfo.InvariantCulture),
        };
        var severity = alerts.MaxBy(a => Rules.Severities.Rank(a.Severity))!.Severity;
        var title = $"[{kind.ToUpperInvariant()}] {severity}: {first.RuleName} on {alerts.Count} hosts ({hosts})";
        var text = $"## {title}\n\n" + string.Join("\n\n---\n\n", parts.Select(p => p.Text));
        return new RenderedMessage(title, text, fields, parts.Select(p => p.Fields).ToList());
    }

    public static Dictionary<string, string> Fields(AlertEntity alert, string kind)
    {
        var c = CultureInfo.InvariantCulture;
        var values = JsonSerializer.Deserialize<List<double>>(alert.BreachValuesJson) ?? [];
        var fields = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["alertId"] = alert.Id.ToString(c),
            ["kind"] = kind,
            ["KIND"] = kind.ToUpperInvariant(),
            ["rule"] = alert.RuleName,
            ["ruleId"] = alert.RuleId.ToString(c),
            ["ruleVersion"] = alert.RuleVersion.ToString(c),
            ["host"] = alert.HostId,
            ["metric"] = alert.Metric,
            ["comparator"] = ComparatorSymbol(alert.Comparator),
            ["severity"] = alert.Severity,
            ["state"] = alert.State,
            ["value"] = Number(alert.Value),
            ["threshold"] = Number(alert.Threshold),
            ["values"] = string.Join(", ", values.Select(Number)),
            ["consecutive"] = alert.ConsecutiveCount.ToString(c),
            ["needed"] = alert.ConsecutiveNeeded.ToString(c),
            ["windowStart"] = Time(alert.WindowStartMs),
            ["windowEnd"] = Time(alert.WindowEndMs),
            ["firedAt"] = Time(alert.FiredAtMs),
            ["resolvedAt"] = alert.ResolvedAtMs is { } r ? Time(r) : "",
            ["resolvedValue"] = alert.ResolvedValue is { } rv ? Number(rv) : "",
        };
        if (alert.Target is not null)
        {
            fields["target"] = alert.Target;
            fields["messages"] = string.Join(" | ", JsonSerializer.Deserialize<List<string>>(alert.EvidenceJson ?? "[]") ?? []);
        }
        fields["resolvedLine"] = alert.ResolvedAtMs is null ? "" : $"\n- resolved at {fields["resolvedAt"]} with {fields["resolvedValue"]}";
        if (alert.AcknowledgedAtMs is { } ack)
        {
            fields["acknowledgedAt"] = Time(ack);
            fields["acknowledgedBy"] = alert.AcknowledgedBy ?? "";
        }
        return fields;
    }

    /// <summary>Lower-case hex SHA-256 of the payload, so the push log can prove what was sent without storing it.</summary>
    public static string Digest(string payload) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(payload)));

    private static string Number(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);

    private static string Time(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms).ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    private static string ComparatorSymbol(string comparator) => comparator switch
    {
        "gt" => ">",
        "ge" => "≥",
        "lt" => "<",
        "le" => "≤",
        _ => comparator,
    };

    [GeneratedRegex(@"\{\{\s*([A-Za-z]+)\s*\}\}")]
    private static partial Regex Placeholder();
}
