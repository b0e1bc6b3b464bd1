using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Monitor.ManageService.Hosts;

namespace Monitor.ManageService.Probes;

/// <summary>The probe types and their defaults.</summary>
internal static class ProbeTypes
{
    public const string Http = "http";
    public const string Tcp = "tcp";
    public const string Icmp = "icmp";
    public const string Postgres = "postgres";
    public const string Redis = "redis";
    public const string Kafka = "kafka";

    public static readonly string[] All = [Http, Tcp, Icmp, Postgres, Redis, Kafka];

    /// <summary>Cluster-wide checks run on one prober chosen by the system unless told otherwise.</summary>
    public static string DefaultAssignment(string type) => type == Kafka ? AssignmentModes.Auto : AssignmentModes.All;
}

internal static class AssignmentModes
{
    public const string All = "all";
    public const string Hosts = "hosts";
    public const string Location = "location";
    public const string Auto = "auto";

    public static readonly string[] Every = [All, Hosts, Location, Auto];
}

internal enum ConfigFieldKind
{
    String,
    Integer,
    Boolean,
    StringMap,
    IntegerArray,
    StringArray,
}

/// <summary>One allowed field of a type's config; <see cref="Check"/> returns an error message or null.</summary>
internal sealed record ConfigField(string Name, ConfigFieldKind Kind, bool Required = false, bool Secret = false, Func<JsonNode, string?>? Check = null);

/// <summary>
/// Per-type validation of target configs (a JSON object, camelCase, unknown fields rejected; see probe.proto) and the
/// places where secrets live in them. Errors name the field as <c>config.&lt;field&gt;</c>.
/// </summary>
internal static partial class ProbeConfigSchema
{
    /// <summary>What the API returns instead of a secret, and what an update sends to keep it.</summary>
    public const string Mask = "***";

    public const int MaxConfigLength = 64 * 1024;

    private static readonly string[] Methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
    private static readonly string[] SecretHeaders = ["authorization", "proxy-authorization", "cookie", "x-api-key"];

    private static readonly Dictionary<string, ConfigField[]> Schemas = new(StringComparer.Ordinal)
    {
        [ProbeTypes.Http] =
        [
            new("url", ConfigFieldKind.String, Required: true, Check: n => CheckUrl(n)),
            new("method", ConfigFieldKind.String, Check: n => Methods.Contains(Str(n)) ? null : $"must be one of {string.Join(", ", Methods)}"),
            new("headers", ConfigFieldKind.StringMap, Check: CheckHeaders),
            new("body", ConfigFieldKind.String, Check: n => MaxLength(n, 16 * 1024)),
            new("acceptedStatusCodes", ConfigFieldKind.IntegerArray, Check: n => CheckIntegers(n, 100, 599, 64)),
            new("bodyMustMatch", ConfigFieldKind.String, Check: CheckRegex),
            new("bodyMustNotMatch", ConfigFieldKind.String, Check: CheckRegex),
            new("followRedirects", ConfigFieldKind.Boolean),
            new("maxRedirects", ConfigFieldKind.Integer, Check: n => Range(n, 0, 50)),
            new("tlsVerify", ConfigFieldKind.Boolean),
        ],
        [ProbeTypes.Tcp] =
        [
            new("host", ConfigFieldKind.String, Required: true, Check: CheckHost),
            new("port", ConfigFieldKind.Integer, Required: true, Check: n => Range(n, 1, 65535)),
            new("send", ConfigFieldKind.String, Check: n => MaxLength(n, 4096)),
            new("expect", ConfigFieldKind.String, Check: n => MaxLength(n, 4096)),
        ],
        [ProbeTypes.Icmp] =
        [
            new("host", ConfigFieldKind.String, Required: true, Check: CheckHost),
            new("count", ConfigFieldKind.Integer, Check: n => Range(n, 1, 20)),
        ],
        [ProbeTypes.Postgres] =
        [
            new("host", ConfigFieldKind.String, Required: true, Check: CheckHost),
            new("port", ConfigFieldKind.Integer, Check: n => Range(n, 1, 65535)),
            new("database", ConfigFieldKind.String, Check: n => NonEmpty(n, 63)),
            new("username", ConfigFieldKind.String, Required: true, Check: n => NonEmpty(n, 63)),
            new("password", ConfigFieldKind.String, Secret: true, Check: n => MaxLength(n, 1024)),
            new("connectionsWarnPercent", ConfigFieldKind.Integer, Check: n => Range(n, 1, 100)),
            new("slowQueryThresholdMs", ConfigFieldKind.Integer, Check: n => Range(n, 1, 86_400_000)),
        ],
        [ProbeTypes.Redis] =
        [
            new("host", ConfigFieldKind.String, Required: true, Check: CheckHost),
            new("port", ConfigFieldKind.Integer, Check: n => Range(n, 1, 65535)),
            new("password", ConfigFieldKind.String, Secret: true, Check: n => MaxLength(n, 1024)),
            new("cluster", ConfigFieldKind.Boolean),
        ],
        [ProbeTypes.Kafka] =
        [
            new("bootstrapServers", ConfigFieldKind.String, Required: true, Check: CheckBootstrap),
            new("groupId", ConfigFieldKind.String, Required: true, Check: n => NonEmpty(n, 255)),
            new("topics", ConfigFieldKind.StringArray, Check: CheckTopics),
            new("saslUsername", ConfigFieldKind.String, Check: n => MaxLength(n, 255)),
            new("saslPassword", ConfigFieldKind.String, Secret: true, Check: n => MaxLength(n, 1024)),
        ],
    };

    public static bool IsKnownType(string? type) => type is not null && Schemas.ContainsKey(type);

    /// <summary>Validates <paramref name="config"/> for <paramref name="type"/>; returns a copy (null/absent = empty object).</summary>
    public static JsonObject Validate(string type, JsonNode? config)
    {
        if (!Schemas.TryGetValue(type, out var fields))
        {
            throw ManageException.Invalid("type", $"must be one of {string.Join(", ", ProbeTypes.All)}");
        }
        if (config is not null and not JsonObject)
        {
            throw ManageException.Invalid("config", "must be a JSON object");
        }
        var copy = (JsonObject?)config?.DeepClone() ?? [];
        if (copy.ToJsonString().Length > MaxConfigLength)
        {
            throw ManageException.Invalid("config", $"must be at most {MaxConfigLength} characters of JSON");
        }
        foreach (var (name, _) in copy)
        {
            if (!fields.Any(f => f.Name == name))
            {
                throw ManageException.Invalid($"config.{name}", $"is not a field of a {type} target (allowed: {string.Join(", ", fields.Select(f => f.Name))})");
            }
        }
        foreach (var field in fields)
        {
            var node = copy[field.Name];
            var path = $"config.{field.Name}";
            if (node is null)
            {
                if (field.Required)
                {
                    throw ManageException.Invalid(path, "is required");
                }
                continue;
            }
            var kindError = CheckKind(node, field.Kind);
            if (kindError is not null)
            {
                throw ManageException.Invalid(path, kindError);
            }
            if (field.Check?.Invoke(node) is { } error)
            {
                throw ManageException.Invalid(path, error);
            }
        }
        return copy;
    }

    /// <summary>The secret slots of a (validated) config: the object holding the value, its key, and the field path.</summary>
    public static IEnumerable<(JsonObject Parent, string Key, string Path)> SecretSlots(string type, JsonObject config)
    {
        if (!Schemas.TryGetValue(type, out var fields))
        {
            yield break;
        }
        foreach (var field in fields.Where(f => f.Secret))
        {
            if (config[field.Name] is JsonValue)
            {
                yield return (config, field.Name, $"config.{field.Name}");
            }
        }
        if (type == ProbeTypes.Http && config["headers"] is JsonObject headers)
        {
            foreach (var name in headers.Select(kv => kv.Key).ToList())
            {
                if (IsSecretHeader(name) && headers[name] is JsonValue)
                {
                    yield return (headers, name, $"config.headers.{name}");
                }
            }
        }
    }

    public static bool IsSecretHeader(string name)
    {
        var lower = name.ToLowerInvariant();
        return SecretHeaders.Contains(lower) || lower.Contains("token", StringComparison.Ordinal) || lower.Contains("secret", StringComparison.Ordinal)
            || lower.Contains("password", StringComparison.Ordinal);
    }

    private static string? CheckKind(JsonNode node, ConfigFieldKind kind) => kind switch
    {
        ConfigFieldKind.String => IsString(node) ? null : "must be a string",
        ConfigFieldKind.Integer => IsInteger(node) ? null : "must be an integer",
        ConfigFieldKind.Boolean => node.GetValueKind() is JsonValueKind.True or JsonValueKind.False ? null : "must be true or false",
        ConfigFieldKind.StringMap => node is JsonObject o && o.All(kv => kv.Value is not null && IsString(kv.Value)) ? null : "must be an object of string values",
        ConfigFieldKind.IntegerArray => node is JsonArray a && a.All(v => v is not null && IsInteger(v)) ? null : "must be an array of integers",
        ConfigFieldKind.StringArray => node is JsonArray s && s.All(v => v is not null && IsString(v)) ? null : "must be an array of strings",
        _ => "has an unknown kind",
    };

    private static bool IsString(JsonNode node) => node.GetValueKind() == JsonValueKind.String;

    private static bool IsInteger(JsonNode node) => node.GetValueKind() == JsonValueKind.Number && node.AsValue().TryGetValue<long>(out _)
        || node.GetValueKind() == JsonValueKind.Number && long.TryParse(node.ToJsonString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _);

    private static string Str(JsonNode node) => node.GetValue<string>();

    private static long Int(JsonNode node) => long.Parse(node.ToJsonString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);

    private static string? Range(JsonNode node, long min, long max) => Int(node) is var v && v >= min && v <= max ? null : $"must be between {min} and {max}";

    private static string? MaxLength(JsonNode node, int max) => Str(node).Length <= max ? null : $"must be at most {max} characters";

    private static string? NonEmpty(JsonNode node, int max) => Str(node) is { Length: > 0 } s && s.Length <= max && !string.IsNullOrWhiteSpace(s) ? null : $"must be 1..{max} characters";

    private static string? CheckUrl(JsonNode node) =>
        Uri.TryCreate(Str(node), UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps) && Str(node).Length <= 2048
            ? null
            : "must be an absolute http:// or https:// URL (at most 2048 characters)";

    private static string? CheckHost(JsonNode node) =>
        HostPattern().IsMatch(Str(node)) ? null : "must be a host name or IP address (1..253 characters)";

    private static string? CheckHeaders(JsonNode node)
    {
        var headers = (JsonObject)node;
        if (headers.Count > 64)
        {
            return "must have at most 64 headers";
        }
        foreach (var (name, value) in headers)
        {
            if (!HeaderNamePattern().IsMatch(name))
            {
                return $"header name '{name}' is not a valid HTTP header name";
            }
            var text = value!.GetValue<string>();
            if (text.Length > 8192 || text.Any(c => c is '\r' or '\n'))
            {
                return $"value of header '{name}' must be one line of at most 8192 characters";
            }
        }
        return null;
    }

    private static string? CheckIntegers(JsonNode node, long min, long max, int maxCount)
    {
        var array = (JsonArray)node;
        if (array.Count > maxCount)
        {
            return $"must have at most {maxCount} entries";
        }
        return array.All(v => Int(v!) >= min && Int(v!) <= max) ? null : $"entries must be between {min} and {max}";
    }

    private static string? CheckRegex(JsonNode node)
    {
        var pattern = Str(node);
        if (pattern.Length > 1024)
        {
            return "must be at most 1024 characters";
        }
        try
        {
            _ = new Regex(pattern, RegexOptions.None, TimeSpan.FromSeconds(1));
            return null;
        }
        catch (ArgumentException)
        {
            return "is not a valid regular expression";
        }
    }

    private static string? CheckBootstrap(JsonNode node)
    {
        var text = Str(node);
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        return text.Length <= 2048 && parts.Length > 0 && parts.All(p => BootstrapPattern().IsMatch(p)) ? null : "must be a comma-separated list of host:port";
    }

    private static string? CheckTopics(JsonNode node)
    {
        var array = (JsonArray)node;
        if (array.Count > 256)
        {
            return "must have at most 256 topics";
        }
        return array.All(t => TopicPattern().IsMatch(t!.GetValue<string>())) ? null : "topics must be 1..249 characters of A-Z a-z 0-9 . _ -";
    }

    [GeneratedRegex(@"^[A-Za-z0-9]([A-Za-z0-9._:\[\]-]{0,252})$")]
    private static partial Regex HostPattern();

    [GeneratedRegex(@"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$")]
    private static partial Regex HeaderNamePattern();

    [GeneratedRegex(@"^[A-Za-z0-9._\[\]:-]{1,253}:[0-9]{1,5}$")]
    private static partial Regex BootstrapPattern();

    [GeneratedRegex(@"^[A-Za-z0-9._-]{1,249}$")]
    private static partial Regex TopicPattern();
}
