using System.ComponentModel.DataAnnotations;

namespace Monitor.ServiceDefaults.Hosting;

/// <summary>Identity and listening addresses of one service instance (section <c>Service</c>).</summary>
public sealed class ServiceOptions
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "Service";

    /// <summary>Kind of service, e.g. <c>report</c>; the etcd key is <c>/monitor/services/{Kind}/{InstanceId}</c>. Set by each service.</summary>
    [Required]
    [RegularExpression("^[a-z][a-z0-9-]{0,31}$")]
    public string Kind { get; set; } = "";

    /// <summary>Instance name, unique within the kind. The default is <c>{hostname}-{http port}</c>.</summary>
    [RegularExpression("^[A-Za-z0-9._-]{0,64}$")]
    public string? InstanceId { get; set; }

    /// <summary>gRPC endpoint (HTTP/2 only), e.g. <c>http://127.0.0.1:8000</c>. Empty: the service has no gRPC port.</summary>
    public string? GrpcUrl { get; set; }

    /// <summary>HTTP endpoint for APIs, health and <c>/metrics</c> (HTTP/1.1 and HTTP/2), e.g. <c>http://127.0.0.1:8100</c>.</summary>
    [Required]
    public string HttpUrl { get; set; } = "";

    /// <summary>Admin (diagnostics) endpoint, loopback only. Empty: none.</summary>
    public string? AdminUrl { get; set; }

    /// <summary>
    /// PEM certificate (chain) served on every <c>https</c> URL above. The default is none: <c>https</c> URLs are
    /// then refused at start-up.
    /// </summary>
    public string? TlsCertificatePath { get; set; }

    /// <summary>PEM private key of <see cref="TlsCertificatePath"/>; empty when the key is in the certificate file. The default is none.</summary>
    public string? TlsKeyPath { get; set; }

    /// <summary>The effective instance id.</summary>
    public string EffectiveInstanceId =>
        string.IsNullOrEmpty(InstanceId) ? $"{Environment.MachineName}-{new Uri(HttpUrl).Port}" : InstanceId;
}
