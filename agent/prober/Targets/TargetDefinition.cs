using System.Text;

namespace Monitor.Prober.Targets;

/// <summary>
/// One thing to check: a unique name, a probe type (<c>http</c>, <c>tcp</c>, <c>icmp</c>,
/// <c>postgres</c>, <c>redis</c>, <c>kafka</c>), the type's settings, how often and how long.
/// </summary>
/// <param name="Name">Unique name, sent as the <c>target</c> label.</param>
/// <param name="Type">Probe type, sent as the <c>type</c> label.</param>
/// <param name="Config">Type-specific settings (from configuration or from the target's JSON).</param>
/// <param name="Interval">Time between two runs.</param>
/// <param name="Timeout">Hard deadline of one run.</param>
/// <param name="Enabled">A paused target is not run.</param>
internal sealed record TargetDefinition(string Name, string Type, IConfiguration Config, TimeSpan Interval, TimeSpan Timeout, bool Enabled)
{
    /// <summary>The default interval: 30 seconds.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(30);

    /// <summary>The default timeout: 5 seconds.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The definition as text (type, interval, timeout, enabled and every setting in key order),
    /// used to tell an edited target from an unchanged one. Holds secrets: never log it.
    /// </summary>
    public string Fingerprint => BuildFingerprint(Type, Config, Interval, Timeout, Enabled);

    /// <summary>Settings from a JSON object (the manage service's target config).</summary>
    public static IConfiguration ConfigFromJson(string json)
    {
        var text = string.IsNullOrWhiteSpace(json) ? "{}" : json;
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(text));
        return new ConfigurationBuilder().AddJsonStream(stream).Build();
    }

    private static string BuildFingerprint(string type, IConfiguration config, TimeSpan interval, TimeSpan timeout, bool enabled)
    {
        var sb = new StringBuilder();
        sb.Append(type).Append('|').Append(interval.Ticks).Append('|').Append(timeout.Ticks).Append('|').Append(enabled);
        foreach (var (key, value) in config.AsEnumerable().Where(kv => kv.Value is not null).OrderBy(kv => kv.Key, StringComparer.OrdinalIgnoreCase))
        {
            sb.Append('|').Append(key.ToUpperInvariant()).Append('=').Append(value);
        }
        return sb.ToString();
    }
}
