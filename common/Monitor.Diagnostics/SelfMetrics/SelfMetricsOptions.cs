namespace Monitor.Diagnostics.SelfMetrics;

/// <summary>The service's own key figures fed into the pipeline as a pseudo-host (section <c>SelfMetrics</c>).</summary>
public sealed class SelfMetricsOptions
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "SelfMetrics";

    /// <summary>Send the figures to a report service. The default is <see langword="true"/>; the per-instance view works either way.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How often the figures are taken and sent. The default is 15 seconds.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Report service gRPC addresses (e.g. <c>http://127.0.0.1:8000</c> or nginx's gRPC entry). The default is none:
    /// the live report instances are taken from the etcd registry.
    /// </summary>
    public List<string> ReportAddresses { get; set; } = [];

    /// <summary>Agent token sent as <c>authorization: Bearer …</c> when access control is on. The default is none. Never logged.</summary>
    public string? Token { get; set; }

    /// <summary>Service kind (set from <c>Service:Kind</c>).</summary>
    public string Kind { get; set; } = "";

    /// <summary>Instance id (set from <c>Service:InstanceId</c>).</summary>
    public string Instance { get; set; } = "";
}

/// <summary>Where the feeder finds report services when <see cref="SelfMetricsOptions.ReportAddresses"/> is empty.</summary>
public interface IReportTargets
{
    /// <summary>gRPC addresses of live report instances (may be empty).</summary>
    Task<IReadOnlyList<string>> GetAsync(CancellationToken cancellationToken);
}
