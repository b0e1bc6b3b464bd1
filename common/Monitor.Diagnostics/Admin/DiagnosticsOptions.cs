namespace Monitor.Diagnostics.Admin;

/// <summary>Runtime diagnostics on the admin port (section <c>Diagnostics</c>).</summary>
public sealed class DiagnosticsOptions
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "Diagnostics";

    /// <summary>
    /// The admin token callers send as <c>Authorization: Bearer &lt;token&gt;</c>. The default is none: the diagnostics
    /// endpoints answer 404. Never logged.
    /// </summary>
    public string? Token { get; set; }

    /// <summary>
    /// Directory for the temporary dumps and traces (a private 0700 subdirectory is created per operation and
    /// removed afterwards). The default is the system temporary directory.
    /// </summary>
    public string? WorkDirectory { get; set; }

    /// <summary>
    /// Count HTTP requests and gRPC calls per route (the per-instance view and the <c>monitor.requests</c> instruments).
    /// The default is <see langword="true"/>; <see langword="false"/> exists for the overhead benchmark.
    /// </summary>
    public bool RequestStatistics { get; set; } = true;
}
