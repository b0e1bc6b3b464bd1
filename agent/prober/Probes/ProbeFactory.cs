using System.Text.RegularExpressions;
using Monitor.Prober.Targets;

namespace Monitor.Prober.Probes;

/// <summary>Thrown when a target's definition is invalid; every message names its field.</summary>
internal sealed class ProbeConfigException(IReadOnlyList<string> errors) : Exception(string.Join("; ", errors))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}

/// <summary>Builds the probe of a target definition.</summary>
internal interface IProbeFactory
{
    /// <summary>Builds the probe; throws <see cref="ProbeConfigException"/> when the definition is invalid.</summary>
    IProbe Create(TargetDefinition target);
}

/// <summary>Validates a target's definition and builds its probe.</summary>
internal sealed partial class ProbeFactory(TimeProvider timeProvider) : IProbeFactory
{
    /// <summary>The probe types this prober runs. (No Cassandra: see docs/probes.md.)</summary>
    public static readonly IReadOnlyList<string> Types = ["http", "tcp", "icmp", "postgres", "redis", "kafka"];

    /// <summary>Longest target name; names are label values.</summary>
    public const int MaxNameLength = 128;

    /// <summary>The field errors of a definition (empty when valid), each prefixed with <paramref name="prefix"/>.</summary>
    public static List<string> Validate(TargetDefinition target, string prefix)
    {
        try
        {
            _ = CreateCore(target, TimeProvider.System);
            return [];
        }
        catch (ProbeConfigException ex)
        {
            return ex.Errors.Select(e => prefix + e).ToList();
        }
    }

    /// <summary>Builds the probe; throws <see cref="ProbeConfigException"/> when the definition is invalid.</summary>
    public IProbe Create(TargetDefinition target) => CreateCore(target, timeProvider);

    private static IProbe CreateCore(TargetDefinition target, TimeProvider time)
    {
        var errors = new List<string>();
        if (string.IsNullOrEmpty(target.Name) || target.Name.Length > MaxNameLength || !char.IsAsciiLetterOrDigit(target.Name[0])
            || !target.Name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or ':'))
        {
            errors.Add($"Name must be 1..{MaxNameLength} characters of [A-Za-z0-9._:-], starting with a letter or digit");
        }
        if (target.Interval < TimeSpan.FromSeconds(1) || target.Interval > TimeSpan.FromDays(1))
        {
            errors.Add("Interval must be between 00:00:01 and 1.00:00:00");
        }
        if (target.Timeout < TimeSpan.FromMilliseconds(100) || target.Timeout > TimeSpan.FromMinutes(5))
        {
            errors.Add("Timeout must be between 00:00:00.100 and 00:05:00");
        }
        else if (target.Timeout >= target.Interval)
        {
            errors.Add("Timeout must be shorter than Interval");
        }
        IProbe? probe = null;
        switch (target.Type)
        {
            case "http":
                probe = Build(target, errors, static c => c.Get<HttpProbeConfig>(Strict), c => c.Validate(), c => new HttpProbe(c, time));
                break;
            case "tcp":
                probe = Build(target, errors, static c => c.Get<TcpProbeConfig>(Strict), c => c.Validate(), c => new TcpProbe(c, time));
                break;
            case "icmp":
                probe = Build(target, errors, static c => c.Get<IcmpProbeConfig>(Strict), c => c.Validate(), c => new IcmpProbe(c, target.Timeout));
                break;
            case "postgres":
                probe = Build(target, errors, static c => c.Get<PostgresProbeConfig>(Strict), c => c.Validate(), c => new PostgresProbe(c, target.Timeout));
                break;
            case "redis":
                probe = Build(target, errors, static c => c.Get<RedisProbeConfig>(Strict), c => c.Validate(), c => new RedisProbe(c, target.Timeout));
                break;
            case "kafka":
                probe = Build(target, errors, static c => c.Get<KafkaLagProbeConfig>(Strict), c => c.Validate(), c => new KafkaLagProbe(c, target.Timeout));
                break;
            default:
                errors.Add($"Type '{target.Type}' is unknown ({string.Join(", ", Types)})");
                break;
        }
        if (errors.Count > 0)
        {
            throw new ProbeConfigException(errors);
        }
        return probe!;
    }

    private static void Strict(BinderOptions options) => options.ErrorOnUnknownConfiguration = true;

    private static IProbe? Build<T>(TargetDefinition target, List<string> errors, Func<IConfiguration, T?> bind, Func<T, IEnumerable<string>> validate, Func<T, IProbe> create)
        where T : class, new()
    {
        T config;
        try
        {
            config = bind(target.Config) ?? new T();
        }
        catch (InvalidOperationException ex)
        {
            // The binder names the key and quotes the value; the value is dropped (it could be a secret).
            errors.Add("Config: " + QuotedValue().Replace(ex.Message, "value at"));
            return null;
        }
        var fieldErrors = validate(config).Select(e => "Config:" + e).ToList();
        errors.AddRange(fieldErrors);
        return fieldErrors.Count == 0 ? create(config) : null;
    }

    [GeneratedRegex("value '.*' at", RegexOptions.Singleline)]
    private static partial Regex QuotedValue();
}
