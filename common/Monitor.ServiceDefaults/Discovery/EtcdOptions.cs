using System.ComponentModel.DataAnnotations;

namespace Monitor.ServiceDefaults.Discovery;

/// <summary>etcd connection and registration settings (section <c>Etcd</c>).</summary>
public sealed class EtcdOptions
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "Etcd";

    /// <summary>etcd client URLs. The default is <c>http://127.0.0.1:2379</c>. Empty list: registration is disabled.</summary>
    public List<string> Endpoints { get; set; } = [];

    /// <summary>Lease time-to-live of the registration key. The default is 10 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:02", "00:10:00")]
    public TimeSpan LeaseTtl { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Key prefix under which services register. The default is <c>/monitor/services</c>.</summary>
    [Required]
    [RegularExpression("^/[A-Za-z0-9/_.-]*[^/]$")]
    public string Prefix { get; set; } = "/monitor/services";

    /// <summary>Delay before retrying a failed registration. The default is 2 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The configured endpoints without blanks (an environment override may blank the default out).</summary>
    public IReadOnlyList<string> EffectiveEndpoints => Endpoints.Where(e => !string.IsNullOrWhiteSpace(e)).ToList();

    /// <summary>The etcd connection string as dotnet-etcd expects it (comma-separated URLs).</summary>
    public string ConnectionString => string.Join(',', EffectiveEndpoints);
}

[Microsoft.Extensions.Options.OptionsValidator]
internal sealed partial class EtcdOptionsValidator : Microsoft.Extensions.Options.IValidateOptions<EtcdOptions>;
