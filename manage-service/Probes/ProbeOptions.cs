using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Monitor.ManageService.Probes;

/// <summary>Probe-target settings of the manage service (section <c>Probes</c>).</summary>
public sealed class ProbeOptions
{
    public const string SectionName = "Probes";

    /// <summary>
    /// AES-256 key (base64 of 32 bytes) that encrypts secrets in target configs. Empty (the default) = a key generated
    /// once and kept in the manage database (table <c>probe_meta</c>), shared by every manage instance; set it (from a
    /// secret store) to keep the key out of the database.
    /// </summary>
    public string SecretKey { get; set; } = "";

    /// <summary>etcd key bumped after every target change so every manage instance re-sends its probers' sets. The default is <c>/monitor/probes/revision</c>.</summary>
    [Required]
    [RegularExpression("^/[A-Za-z0-9/_.-]*[^/]$")]
    public string RevisionKey { get; set; } = "/monitor/probes/revision";

    /// <summary>
    /// etcd prefix under which each manage instance registers its connected probers (under its service-registry lease),
    /// for "auto" assignment across instances. The default is <c>/monitor/probes/probers</c>.
    /// </summary>
    [Required]
    [RegularExpression("^/[A-Za-z0-9/_.-]*[^/]$")]
    public string ProberPrefix { get; set; } = "/monitor/probes/probers";

    /// <summary>A watch stream recomputes its set at least this often even without a change notice. The default is 30 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan ResyncInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How far back target status looks for the latest result in InfluxDB. The default is 1 day.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "30.00:00:00")]
    public TimeSpan StatusLookBack { get; set; } = TimeSpan.FromDays(1);

    /// <summary>Retry delay of the etcd watch after a failure. The default is 2 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(2);
}

[OptionsValidator]
internal sealed partial class ProbeOptionsValidator : IValidateOptions<ProbeOptions>;
