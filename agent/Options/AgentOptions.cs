using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Monitor.Agent.Options;

/// <summary>Agent settings (section <c>Agent</c>).</summary>
public sealed class AgentOptions
{
    public const string SectionName = "Agent";

    /// <summary>Host identity sent with every batch, 1..128 characters. The default is the machine's host name.</summary>
    [MaxLength(128)]
    public string? HostId { get; set; }

    /// <summary>Time between two snapshots. The default is 60 seconds (as in the original design); 1 second works.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "1.00:00:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Report-service gRPC addresses, tried in order; on failure the agent moves to the next one.
    /// The default is nginx's gRPC entry point <c>http://127.0.0.1:8443</c>.
    /// </summary>
    [MinLength(1)]
    public List<string> ReportAddresses { get; set; } = [];

    /// <summary>Static labels added to every sample (e.g. <c>location</c>). The default is none.</summary>
    public Dictionary<string, string> Labels { get; set; } = [];

    /// <summary>Most batches kept while unacknowledged; beyond that the oldest are dropped and counted. The default is 10,000.</summary>
    [Range(1, 10_000_000)]
    public int MaxPendingBatches { get; set; } = 10_000;

    /// <summary>First reconnect delay; doubles with jitter up to <see cref="ReconnectMaxDelay"/>. The default is 500 ms.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan ReconnectInitialDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Longest reconnect delay. The default is 10 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// On shutdown, how long the agent keeps the stream open for the acks of batches already taken,
    /// so that a graceful stop leaves nothing unacknowledged. The default is 5 seconds.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00")]
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Optional audit ledger: every acknowledged sample is appended to this file as one JSON line
    /// (host, sequence, metric, labels, value, timestamp). Used by the end-to-end tests to compare
    /// what was sent with what was stored. The default is none.
    /// </summary>
    public string? LedgerPath { get; set; }

    /// <summary>The effective host id.</summary>
    public string EffectiveHostId => string.IsNullOrEmpty(HostId) ? Environment.MachineName : HostId;
}

[OptionsValidator]
internal sealed partial class AgentOptionsValidator : IValidateOptions<AgentOptions>;

internal sealed class AgentOptionsAddressValidator : IValidateOptions<AgentOptions>
{
    public ValidateOptionsResult Validate(string? name, AgentOptions options)
    {
        var failures = new List<string>();
        for (int i = 0; i < options.ReportAddresses.Count; i++)
        {
            if (!Uri.TryCreate(options.ReportAddresses[i], UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
            {
                failures.Add($"Agent:ReportAddresses:{i} must be an absolute http:// or https:// URL (got '{options.ReportAddresses[i]}').");
            }
        }
        foreach (var key in options.Labels.Keys)
        {
            if (key.Length == 0 || key == "host_id" || !key.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') || char.IsAsciiDigit(key[0]))
            {
                failures.Add($"Agent:Labels:{key} is not a valid label key ([A-Za-z_][A-Za-z0-9_]*, not host_id).");
            }
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
