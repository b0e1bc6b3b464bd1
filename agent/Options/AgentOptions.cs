using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Monitor.Agent.Options;

// IL2026: the DataAnnotations attributes below are only read at compile time by the [OptionsValidator]
// source generator, which emits trim-safe copies of Range/MaxLength; nothing reflects over them at run time.
#pragma warning disable IL2026

/// <summary>Agent settings (section <c>Agent</c>).</summary>
public sealed class AgentOptions
{
    public const string SectionName = "Agent";

    /// <summary>Host identity sent with every batch, 1..128 characters. The default is the machine's host name.</summary>
    [MaxLength(128, ErrorMessage = "Agent:HostId must be at most 128 characters.")]
    public string? HostId { get; set; }

    /// <summary>Time between two snapshots. The default is 60 seconds (as in the original design); 1 second works.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "1.00:00:00", ErrorMessage = "Agent:Interval must be between 00:00:00.100 and 1.00:00:00.")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Fixed report-service gRPC addresses (e.g. nginx's gRPC entry point <c>http://127.0.0.1:8443</c>),
    /// tried in order; on failure the agent moves to the next one. Used when
    /// <see cref="DiscoveryOptions.EtcdEndpoints"/> is empty, and as the fallback while etcd lists no
    /// instance. The default is none (appsettings.json names nginx's entry point).
    /// </summary>
    public List<string> ReportAddresses { get; set; } = [];

    /// <summary>Static labels added to every sample (e.g. <c>location</c>), at most 12. The default is none.</summary>
    public Dictionary<string, string> Labels { get; set; } = [];

    /// <summary>
    /// Directory of the on-disk spool: every batch is written here before it is sent and deleted
    /// when acknowledged. Only one agent may use a directory at a time. The default is
    /// <c>/var/lib/monitor-agent/spool</c>.
    /// </summary>
    [Required(ErrorMessage = "Agent:SpoolDirectory is required.")]
    public string SpoolDirectory { get; set; } = "/var/lib/monitor-agent/spool";

    /// <summary>Largest spool size on disk, in bytes; beyond it the oldest batches are dropped and counted. The default is 256 MiB.</summary>
    [Range(4096L, long.MaxValue, ErrorMessage = "Agent:MaxSpoolBytes must be at least 4096.")]
    public long MaxSpoolBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>Most batches kept in the spool; beyond that the oldest are dropped and counted. The default is 100,000 (27 h at 1 s, 69 days at 60 s).</summary>
    [Range(1, 10_000_000, ErrorMessage = "Agent:MaxSpoolBatches must be between 1 and 10000000.")]
    public int MaxSpoolBatches { get; set; } = 100_000;

    /// <summary>
    /// Whether each spooled batch is fsync'd before it is sent. With <c>false</c> a batch survives
    /// an agent crash (kill -9) but not a power loss. The default is <c>true</c>.
    /// </summary>
    public bool SpoolFsync { get; set; } = true;

    /// <summary>First reconnect delay; grows exponentially with jitter up to <see cref="ReconnectMaxDelay"/>. The default is 500 ms.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00", ErrorMessage = "Agent:ReconnectInitialDelay must be between 00:00:00.010 and 00:10:00.")]
    public TimeSpan ReconnectInitialDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Longest reconnect delay. The default is 10 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00", ErrorMessage = "Agent:ReconnectMaxDelay must be between 00:00:00.010 and 01:00:00.")]
    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// On shutdown, how long the agent keeps the stream open for the acks of batches already taken.
    /// Unacknowledged batches stay in the spool and are sent after the next start. The default is 5 seconds.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00", ErrorMessage = "Agent:DrainTimeout must be between 00:00:00 and 00:05:00.")]
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Longest time one collector may take; a slower one is abandoned for this snapshot and counted as failed. The default is 5 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00", ErrorMessage = "Agent:CollectorTimeout must be between 00:00:00.010 and 00:10:00.")]
    public TimeSpan CollectorTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Network interfaces not reported: exact names, or prefixes ending in <c>*</c> (e.g. <c>veth*</c>).
    /// The default is <c>lo</c>.
    /// </summary>
    public List<string> ExcludeInterfaces { get; set; } = ["lo"];

    /// <summary>
    /// File-system types not reported by the disk-usage collector (pseudo and in-memory file
    /// systems). <c>overlay</c> is skipped except when mounted at <c>/</c> (an agent in a container).
    /// The default is the list in <see cref="DefaultExcludedFileSystemTypes"/>.
    /// </summary>
    public List<string> ExcludeFileSystemTypes { get; set; } = [.. DefaultExcludedFileSystemTypes];

    /// <summary>
    /// Block devices not reported by the disk-I/O collector: exact names or prefixes ending in <c>*</c>.
    /// Partitions are never reported (only whole devices listed in /sys/block). The default is
    /// <c>loop*</c>, <c>ram*</c>, <c>zram*</c>, <c>fd*</c>, <c>sr*</c>.
    /// </summary>
    public List<string> ExcludeBlockDevices { get; set; } = ["loop*", "ram*", "zram*", "fd*", "sr*"];

    /// <summary>
    /// Shortest time between two readings of the TCP connection states (/proc/net/tcp walks the
    /// kernel's whole TCP hash table); snapshots in between carry no <c>tcp_connections</c>.
    /// The default is 10 seconds; <c>00:00:00</c> reads them in every snapshot.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00", ErrorMessage = "Agent:TcpStatesMinInterval must be between 00:00:00 and 01:00:00.")]
    public TimeSpan TcpStatesMinInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Collectors not run, by name: <c>cpu</c>, <c>memory</c>, <c>system</c>, <c>disk_usage</c>,
    /// <c>disk_io</c>, <c>network</c>, <c>tcp</c>, <c>agent</c>, <c>runtime</c> (the agent's own GC, thread-pool, CPU,
    /// working-set and exception figures). The default is none.
    /// </summary>
    public List<string> DisabledCollectors { get; set; } = [];

    /// <summary>Report-service discovery through etcd (section <c>Agent:Discovery</c>).</summary>
    [ValidateObjectMembers]
    public DiscoveryOptions Discovery { get; set; } = new();

    /// <summary>
    /// Optional audit ledger: every acknowledged sample is appended to this file as one JSON line
    /// (host, sequence, metric, labels, value, timestamp). Used by the end-to-end tests to compare
    /// what was sent with what was stored. The default is none.
    /// </summary>
    public string? LedgerPath { get; set; }

    /// <summary>
    /// Optional audit of what was taken: every batch written to the spool is appended to this file as
    /// one JSON line (host, sequence, sample count). Used by the tests to prove nothing sampled went
    /// missing. The default is none.
    /// </summary>
    public string? SpoolLedgerPath { get; set; }

    /// <summary>
    /// Agent token sent on the report stream as gRPC metadata <c>authorization: Bearer &lt;token&gt;</c> (created with
    /// <c>create-agent-token</c> or <c>POST /api/v1/manage/tokens</c>). Prefer <see cref="TokenFile"/> so the secret is
    /// not in a configuration file. The default is none (the report service then answers Unauthenticated unless access
    /// control is off).
    /// </summary>
    public string? Token { get; set; }

    /// <summary>File whose first line is the agent token (mode 0600); read at start-up, wins over <see cref="Token"/>. The default is none.</summary>
    public string? TokenFile { get; set; }

    /// <summary>
    /// PEM file of the certificate authority that signed the report services' TLS certificates (for <c>https://</c>
    /// report addresses). The default is none: the operating system's trust store decides.
    /// </summary>
    public string? CaCertificatePath { get; set; }

    /// <summary>The token to send: the first line of <see cref="TokenFile"/>, else <see cref="Token"/>; null when neither is set.</summary>
    public string? ResolveToken()
    {
        if (!string.IsNullOrEmpty(TokenFile))
        {
            var line = File.ReadLines(TokenFile).FirstOrDefault()?.Trim();
            return string.IsNullOrEmpty(line) ? null : line;
        }
        return string.IsNullOrWhiteSpace(Token) ? null : Token.Trim();
    }

    /// <summary>The effective host id.</summary>
    public string EffectiveHostId => string.IsNullOrEmpty(HostId) ? Environment.MachineName : HostId;

    /// <summary>File-system types skipped by default.</summary>
    public static readonly string[] DefaultExcludedFileSystemTypes =
    [
        "autofs", "binfmt_misc", "bpf", "cgroup", "cgroup2", "configfs", "debugfs", "devpts", "devtmpfs",
        "efivarfs", "fuse.lxcfs", "fusectl", "hugetlbfs", "mqueue", "nsfs", "overlay", "proc", "pstore",
        "ramfs", "rpc_pipefs", "securityfs", "selinuxfs", "squashfs", "sysfs", "tmpfs", "tracefs",
    ];
}

/// <summary>Report-service discovery settings (section <c>Agent:Discovery</c>).</summary>
public sealed class DiscoveryOptions
{
    /// <summary>
    /// etcd client URLs (e.g. <c>http://127.0.0.1:2379</c>), spoken to through etcd's JSON gateway.
    /// The default is none: the agent uses <see cref="AgentOptions.ReportAddresses"/>.
    /// </summary>
    public List<string> EtcdEndpoints { get; set; } = [];

    /// <summary>Key prefix under which report services register. The default is <c>/monitor/services/report/</c>.</summary>
    [Required(ErrorMessage = "Agent:Discovery:Prefix is required.")]
    [RegularExpression("^/.*/$", ErrorMessage = "Agent:Discovery:Prefix must start and end with '/'.")]
    public string Prefix { get; set; } = "/monitor/services/report/";

    /// <summary>
    /// How often the full list is read again, as a safety net besides the watch. The default is 30 seconds.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00", ErrorMessage = "Agent:Discovery:RefreshInterval must be between 00:00:01 and 01:00:00.")]
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(30);
}

#pragma warning restore IL2026

[OptionsValidator]
internal sealed partial class AgentOptionsValidator : IValidateOptions<AgentOptions>;

/// <summary>Cross-field and format rules that DataAnnotations cannot express; every message names its key.</summary>
internal sealed class AgentOptionsCustomValidator : IValidateOptions<AgentOptions>
{
    /// <summary>The report service accepts 16 labels per sample; collectors add at most 2 and need head-room.</summary>
    public const int MaxStaticLabels = 12;

    public ValidateOptionsResult Validate(string? name, AgentOptions options)
    {
        var failures = new List<string>();
        for (int i = 0; i < options.ReportAddresses.Count; i++)
        {
            if (!IsHttpUrl(options.ReportAddresses[i]))
            {
                failures.Add($"Agent:ReportAddresses:{i} must be an absolute http:// or https:// URL (got '{options.ReportAddresses[i]}').");
            }
        }
        for (int i = 0; i < options.Discovery.EtcdEndpoints.Count; i++)
        {
            if (!IsHttpUrl(options.Discovery.EtcdEndpoints[i]))
            {
                failures.Add($"Agent:Discovery:EtcdEndpoints:{i} must be an absolute http:// or https:// URL (got '{options.Discovery.EtcdEndpoints[i]}').");
            }
        }
        if (options.ReportAddresses.Count == 0 && options.Discovery.EtcdEndpoints.Count == 0)
        {
            failures.Add("Agent:ReportAddresses: set at least one report address, or Agent:Discovery:EtcdEndpoints.");
        }
        if (options.TokenFile is { Length: > 0 } tokenFile && !File.Exists(tokenFile))
        {
            failures.Add($"Agent:TokenFile '{tokenFile}' does not exist.");
        }
        if (options.CaCertificatePath is { Length: > 0 } ca && !File.Exists(ca))
        {
            failures.Add($"Agent:CaCertificatePath '{ca}' does not exist.");
        }
        if (options.ReconnectMaxDelay < options.ReconnectInitialDelay)
        {
            failures.Add("Agent:ReconnectMaxDelay must not be shorter than Agent:ReconnectInitialDelay.");
        }
        if (options.HostId is { Length: > 0 } hostId && hostId.Any(char.IsControl))
        {
            failures.Add("Agent:HostId must not contain control characters.");
        }
        foreach (var collector in options.DisabledCollectors)
        {
            if (collector is not ("cpu" or "memory" or "system" or "disk_usage" or "disk_io" or "network" or "tcp" or "agent" or "runtime"))
            {
                failures.Add($"Agent:DisabledCollectors: unknown collector '{collector}' (cpu, memory, system, disk_usage, disk_io, network, tcp, agent, runtime).");
            }
        }
        if (options.Labels.Count > MaxStaticLabels)
        {
            failures.Add($"Agent:Labels has {options.Labels.Count} labels; at most {MaxStaticLabels} are allowed.");
        }
        foreach (var (key, value) in options.Labels)
        {
            if (!IsLabelKey(key))
            {
                failures.Add($"Agent:Labels:{key} is not a valid label key ([A-Za-z_][A-Za-z0-9_]*, not host_id).");
            }
            else if (key is "cpu" or "mount" or "device" or "iface" or "state" or "collector" or "component" or "generation")
            {
                failures.Add($"Agent:Labels:{key} collides with a label the collectors set.");
            }
            if (string.IsNullOrEmpty(value) || value.Any(char.IsControl))
            {
                failures.Add($"Agent:Labels:{key} must have a non-empty value without control characters.");
            }
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static bool IsHttpUrl(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == "http" || uri.Scheme == "https");

    internal static bool IsLabelKey(string key) =>
        key.Length > 0 && key != "host_id" && !char.IsAsciiDigit(key[0]) && key.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
}
