using System.Text.RegularExpressions;

namespace Monitor.Prober.Probes;

// The settings classes follow the config_json schema of protos/monitor/v1/probe.proto (the
// manage service validates the same fields); configuration binding is case-insensitive, so the
// camelCase JSON keys and PascalCase configuration keys both bind. Unknown keys are rejected.

/// <summary>Settings of an <c>http</c> probe.</summary>
internal sealed class HttpProbeConfig
{
    /// <summary>Most bytes of body read (and matched): 1 MiB.</summary>
    public const int MaxBodyBytes = 1024 * 1024;

    /// <summary>Absolute http:// or https:// URL. Required.</summary>
    public string? Url { get; set; }

    /// <summary>Request method. The default is GET.</summary>
    public string Method { get; set; } = "GET";

    /// <summary>Request headers. The default is none. Values may be secrets (Authorization): never logged.</summary>
    public Dictionary<string, string> Headers { get; set; } = [];

    /// <summary>Request body (UTF-8; give its Content-Type in <see cref="Headers"/>). The default is none.</summary>
    public string Body { get; set; } = "";

    /// <summary>Status codes that count as success. The default (empty) is any 2xx.</summary>
    public List<int> AcceptedStatusCodes { get; set; } = [];

    /// <summary>Regular expression the body must match. The default (empty) is none.</summary>
    public string BodyMustMatch { get; set; } = "";

    /// <summary>Regular expression the body must not match. The default (empty) is none.</summary>
    public string BodyMustNotMatch { get; set; } = "";

    /// <summary>Whether redirects are followed (and counted). The default is true.</summary>
    public bool FollowRedirects { get; set; } = true;

    /// <summary>Most redirects followed. The default is 10.</summary>
    public int MaxRedirects { get; set; } = 10;

    /// <summary>Whether the server certificate is verified. The default is true.</summary>
    public bool TlsVerify { get; set; } = true;

    public IEnumerable<string> Validate()
    {
        if (!Uri.TryCreate(Url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            yield return "url must be an absolute http:// or https:// URL";
        }
        if (string.IsNullOrWhiteSpace(Method) || !Method.All(char.IsAsciiLetter))
        {
            yield return "method must be an HTTP method name (letters only)";
        }
        foreach (var code in AcceptedStatusCodes.Where(c => c is < 100 or > 599))
        {
            yield return $"acceptedStatusCodes: {code} is not an HTTP status code (100-599)";
        }
        foreach (var (field, pattern) in new[] { ("bodyMustMatch", BodyMustMatch), ("bodyMustNotMatch", BodyMustNotMatch) })
        {
            if (pattern.Length > 0 && !IsRegex(pattern))
            {
                yield return $"{field} is not a valid regular expression";
            }
        }
        if (MaxRedirects is < 0 or > 50)
        {
            yield return "maxRedirects must be between 0 and 50";
        }
        foreach (var name in Headers.Keys.Where(k => k.Length == 0 || k.Any(c => c <= ' ' || c == ':' || c > '~')))
        {
            yield return $"headers: '{name}' is not a valid header name";
        }
    }

    private static bool IsRegex(string pattern)
    {
        try
        {
            _ = new Regex(pattern, RegexOptions.None, TimeSpan.FromSeconds(1));
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}

/// <summary>Settings of a <c>tcp</c> probe.</summary>
internal sealed class TcpProbeConfig
{
    /// <summary>Host name or address. Required.</summary>
    public string? Host { get; set; }

    /// <summary>TCP port, 1-65535. Required.</summary>
    public int Port { get; set; }

    /// <summary>Text sent after connecting (UTF-8). The default (empty) is none.</summary>
    public string Send { get; set; } = "";

    /// <summary>Text the answer must contain; read until it appears or the deadline. The default (empty) is connect only.</summary>
    public string Expect { get; set; } = "";

    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(Host))
        {
            yield return "host is required";
        }
        if (Port is < 1 or > 65535)
        {
            yield return "port must be between 1 and 65535";
        }
    }
}

/// <summary>Settings of an <c>icmp</c> probe.</summary>
internal sealed class IcmpProbeConfig
{
    /// <summary>Host name or address. Required.</summary>
    public string? Host { get; set; }

    /// <summary>Echo requests per run, 1..20. The default is 3. The run fails only when every echo is lost.</summary>
    public int Count { get; set; } = 3;

    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(Host))
        {
            yield return "host is required";
        }
        if (Count is < 1 or > 20)
        {
            yield return "count must be between 1 and 20";
        }
    }
}

/// <summary>Settings of a <c>postgres</c> probe.</summary>
internal sealed class PostgresProbeConfig
{
    /// <summary>Server host name or address. Required.</summary>
    public string? Host { get; set; }

    /// <summary>Server port. The default is 5432.</summary>
    public int Port { get; set; } = 5432;

    /// <summary>Database. The default is <c>postgres</c>.</summary>
    public string Database { get; set; } = "postgres";

    /// <summary>User name (needs the pg_monitor role for the replication columns). Required.</summary>
    public string? Username { get; set; }

    /// <summary>Password (secret: never logged). The default is none.</summary>
    public string Password { get; set; } = "";

    /// <summary>Connections (client backends) above this percentage of max_connections add a warning. The default is 80.</summary>
    public double ConnectionsWarnPercent { get; set; } = 80;

    /// <summary>A query active for longer than this many milliseconds counts as slow. The default is 5000.</summary>
    public long SlowQueryThresholdMs { get; set; } = 5000;

    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(Host))
        {
            yield return "host is required";
        }
        if (Port is < 1 or > 65535)
        {
            yield return "port must be between 1 and 65535";
        }
        if (string.IsNullOrWhiteSpace(Database))
        {
            yield return "database must not be empty";
        }
        if (string.IsNullOrWhiteSpace(Username))
        {
            yield return "username is required";
        }
        if (ConnectionsWarnPercent is < 1 or > 100)
        {
            yield return "connectionsWarnPercent must be between 1 and 100";
        }
        if (SlowQueryThresholdMs <= 0)
        {
            yield return "slowQueryThresholdMs must be positive";
        }
    }
}

/// <summary>Settings of a <c>redis</c> probe.</summary>
internal sealed class RedisProbeConfig
{
    /// <summary>Host name or address (for a cluster, any of its nodes). Required.</summary>
    public string? Host { get; set; }

    /// <summary>Port. The default is 6379.</summary>
    public int Port { get; set; } = 6379;

    /// <summary>Password (secret: never logged). The default is none.</summary>
    public string Password { get; set; } = "";

    /// <summary>Whether the target is a Redis Cluster (reports nodes and slots). The default is false.</summary>
    public bool Cluster { get; set; }

    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(Host))
        {
            yield return "host is required";
        }
        if (Port is < 1 or > 65535)
        {
            yield return "port must be between 1 and 65535";
        }
    }
}

/// <summary>Settings of a <c>kafka</c> (consumer-group lag) probe.</summary>
internal sealed class KafkaLagProbeConfig
{
    /// <summary>Kafka bootstrap servers (host:port,...). Required.</summary>
    public string? BootstrapServers { get; set; }

    /// <summary>Consumer group whose lag is measured. Required.</summary>
    public string? GroupId { get; set; }

    /// <summary>Topics of the group. The default (empty) is every topic the group committed to.</summary>
    public List<string> Topics { get; set; } = [];

    /// <summary>SASL user (SASL_PLAINTEXT, mechanism PLAIN). The default (empty) is no SASL.</summary>
    public string SaslUsername { get; set; } = "";

    /// <summary>SASL password (secret: never logged). The default is none.</summary>
    public string SaslPassword { get; set; } = "";

    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(BootstrapServers))
        {
            yield return "bootstrapServers is required";
        }
        if (string.IsNullOrWhiteSpace(GroupId))
        {
            yield return "groupId is required";
        }
        if (Topics.Any(string.IsNullOrWhiteSpace))
        {
            yield return "topics must not contain an empty name";
        }
    }
}
