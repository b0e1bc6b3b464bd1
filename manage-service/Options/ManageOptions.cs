using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Monitor.ManageService.Options;

/// <summary>Database, liveness, decommissioning and registry settings of the manage service (section <c>Manage</c>).</summary>
public sealed class ManageOptions
{
    public const string SectionName = "Manage";

    /// <summary>Name of the connection string (section <c>ConnectionStrings</c>) of the MySQL/MariaDB database. The default is <c>Manage</c>.</summary>
    [Required]
    public string ConnectionStringName { get; set; } = "Manage";

    /// <summary>
    /// Server version passed to Pomelo (no connection is made at start-up to detect it), e.g. <c>10.11.0-mariadb</c>
    /// or <c>8.0.36-mysql</c>. The default is <c>10.11.0-mariadb</c>.
    /// </summary>
    [Required]
    [RegularExpression(@"^\d+\.\d+(\.\d+)?-(mariadb|mysql)$")]
    public string ServerVersion { get; set; } = "10.11.0-mariadb";

    /// <summary>Apply pending EF Core migrations when the service starts. The default is <see langword="true"/> (the local stack).</summary>
    public bool ApplyMigrationsOnStartup { get; set; } = true;

    /// <summary>Most hosts in one page when the caller asks for none. The default is 500 hosts.</summary>
    [Range(1, 5000)]
    public int DefaultPageSize { get; set; } = 500;

    /// <summary>Most hosts in one page. The default is 5,000 hosts.</summary>
    [Range(1, 100_000)]
    public int MaxPageSize { get; set; } = 5000;

    /// <summary>Liveness settings (section <c>Manage:Liveness</c>).</summary>
    [ValidateObjectMembers]
    public LivenessOptions Liveness { get; set; } = new();

    /// <summary>Service-registry view settings (section <c>Manage:Registry</c>).</summary>
    [ValidateObjectMembers]
    public RegistryOptions Registry { get; set; } = new();

    /// <summary>
    /// etcd key prefix under which a host deletion is announced as <c>{prefix}/{host_id}</c> (the warning service ends
    /// the host's alerts when it sees the key). The default is <c>/monitor/events/host-deleted</c>.
    /// </summary>
    [Required]
    [RegularExpression("^/[A-Za-z0-9/_.-]*[^/]$")]
    public string HostDeletedEventPrefix { get; set; } = "/monitor/events/host-deleted";

    /// <summary>How long a host-deletion announcement stays in etcd (it is written under a lease). The default is 7 days.</summary>
    [Range(typeof(TimeSpan), "00:00:10", "365.00:00:00")]
    public TimeSpan HostDeletedEventTtl { get; set; } = TimeSpan.FromDays(7);
}

/// <summary>How host liveness is read from InfluxDB (section <c>Manage:Liveness</c>).</summary>
public sealed class LivenessOptions
{
    /// <summary>The agents' sampling interval. The default is 60 seconds (the agent's default).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "1.00:00:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>A host is reporting when it sent data within the last <c>Intervals</c> × <see cref="Interval"/>. The default is 3 intervals.</summary>
    [Range(1, 1000)]
    public int Intervals { get; set; } = 3;

    /// <summary>How often the last-seen times are refreshed from InfluxDB. The default is 15 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How far back the first read after start-up looks for last-seen times (later reads only cover the window, so a
    /// host silent for longer than this shows no last-seen time). The default is 1 day.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "3650.00:00:00")]
    public TimeSpan LookBack { get; set; } = TimeSpan.FromDays(1);

    /// <summary>
    /// Measurements every agent sends each interval; the latest point of any of them is the host's last-seen time.
    /// The default is <c>cpu_rate</c> and <c>mem_rate</c>.
    /// </summary>
    [Required]
    [MinLength(1)]
    public List<string> Measurements { get; set; } = ["cpu_rate", "mem_rate"];

    /// <summary>The liveness window (<see cref="Interval"/> × <see cref="Intervals"/>).</summary>
    public TimeSpan Window => Interval * Intervals;
}

/// <summary>The watch-driven service registry view (section <c>Manage:Registry</c>).</summary>
public sealed class RegistryOptions
{
    /// <summary>How long an instance whose registration key disappeared stays listed with <c>leaseAlive=false</c>. The default is 10 minutes.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "7.00:00:00")]
    public TimeSpan KeepGoneFor { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Delay before re-establishing a broken watch. The default is 2 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(2);
}

[OptionsValidator]
internal sealed partial class ManageOptionsValidator : IValidateOptions<ManageOptions>;

/// <summary>Cross-field rules and the liveness measurement names (they go into InfluxQL).</summary>
internal sealed partial class ManageOptionsCustomValidator : IValidateOptions<ManageOptions>
{
    public ValidateOptionsResult Validate(string? name, ManageOptions options)
    {
        var failures = new List<string>();
        if (options.DefaultPageSize > options.MaxPageSize)
        {
            failures.Add($"Manage:DefaultPageSize ({options.DefaultPageSize}) must not exceed Manage:MaxPageSize ({options.MaxPageSize}).");
        }
        foreach (var m in options.Liveness.Measurements)
        {
            if (!MeasurementName().IsMatch(m))
            {
                failures.Add($"Manage:Liveness:Measurements: '{m}' is not a metric name ([a-z][a-z0-9_]*).");
            }
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    [System.Text.RegularExpressions.GeneratedRegex("^[a-z][a-z0-9_]{0,127}$")]
    private static partial System.Text.RegularExpressions.Regex MeasurementName();
}
