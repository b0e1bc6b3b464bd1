using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Monitor.Prober.Options;

/// <summary>
/// Prober settings (section <c>Probes</c>). Sending (host id, report addresses, etcd discovery,
/// spool) uses the agent's keys under <c>Agent</c>, because the prober runs the agent's sender.
/// </summary>
public sealed class ProberOptions
{
    public const string SectionName = "Probes";

    /// <summary>
    /// Static targets, run besides any received from the manage service. Each entry has
    /// <c>Name</c>, <c>Type</c>, <c>Interval</c> (default 30 s), <c>Timeout</c> (default 5 s),
    /// <c>Enabled</c> (default true) and the type's settings under <c>Config</c>. The default is none.
    /// </summary>
    [ValidateEnumeratedItems]
    public List<ProbeTargetOptions> Targets { get; set; } = [];

    /// <summary>Targets from the manage service (section <c>Probes:Manage</c>).</summary>
    [ValidateObjectMembers]
    public ManageTargetsOptions Manage { get; set; } = new();
}

/// <summary>Where the prober receives its targets from the manage service (section <c>Probes:Manage</c>).</summary>
public sealed class ManageTargetsOptions
{
    /// <summary>
    /// gRPC address of the manage service (e.g. <c>http://127.0.0.1:8050</c>) or of nginx's gRPC entry
    /// point, which routes <c>/monitor.v1.ProbeConfigService/</c> to it. Sent with the agent token
    /// (<c>Agent:Token</c>/<c>Agent:TokenFile</c>) and verified with <c>Agent:CaCertificatePath</c>.
    /// The default is none: only the static targets run.
    /// </summary>
    public string? Address { get; set; }

    /// <summary>Location of this prober's host, for targets assigned by location. The default (empty) is the location registered for the host id.</summary>
    [MaxLength(128)]
    public string Location { get; set; } = "";

    /// <summary>First delay before reconnecting a failed stream; doubles up to <see cref="ReconnectMaxDelay"/>. The default is 1 second.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan ReconnectInitialDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest reconnect delay. The default is 30 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>One static target (section <c>Probes:Targets:N</c>); its type settings are read from <c>Probes:Targets:N:Config</c>.</summary>
public sealed class ProbeTargetOptions
{
    /// <summary>Unique name, 1..128 characters of [A-Za-z0-9_.:/-]. Required.</summary>
    [Required]
    public string Name { get; set; } = "";

    /// <summary>Probe type: http, tcp, icmp, postgres, redis, kafka. Required.</summary>
    [Required]
    public string Type { get; set; } = "";

    /// <summary>Time between two runs. The default is 30 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Hard deadline of one run. The default is 5 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Whether the target runs. The default is true.</summary>
    public bool Enabled { get; set; } = true;
}

[OptionsValidator]
internal sealed partial class ProberOptionsValidator : IValidateOptions<ProberOptions>;
