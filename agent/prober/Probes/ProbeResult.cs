namespace Monitor.Prober.Probes;

/// <summary>Why a probe failed: the bounded set of values of the <c>reason</c> label.</summary>
public enum ProbeFailure
{
    /// <summary>No answer within the target's timeout.</summary>
    Timeout,
    /// <summary>The connection was refused or reset.</summary>
    Refused,
    /// <summary>The name did not resolve.</summary>
    Dns,
    /// <summary>An unexpected status (HTTP code, cluster state, lag or connections over a limit).</summary>
    Status,
    /// <summary>The response body (or TCP answer) did not match what was expected.</summary>
    Body,
    /// <summary>TLS handshake or certificate verification failed.</summary>
    Tls,
    /// <summary>The server rejected the credentials.</summary>
    Auth,
    /// <summary>Anything else.</summary>
    Error,
}

/// <summary>One type-specific value of a probe run, with its extra labels (beyond <c>target</c> and <c>type</c>).</summary>
internal sealed record ProbeMetric(string Name, double Value, IReadOnlyDictionary<string, string>? Labels = null);

/// <summary>The outcome of one probe run.</summary>
internal sealed class ProbeResult
{
    /// <summary>Longest message kept (the report service accepts 1,024 characters by default).</summary>
    public const int MaxMessageLength = 1000;

    public bool Success { get; private init; }

    /// <summary>Why it failed; null on success.</summary>
    public ProbeFailure? Failure { get; private init; }

    /// <summary>Free text: the failure, or warnings of a successful run. Empty when there is nothing to say.</summary>
    public string Message { get; private init; } = "";

    /// <summary>Type-specific values measured before the run ended (also on failure).</summary>
    public List<ProbeMetric> Metrics { get; private init; } = [];

    /// <summary>Run time, filled in by the runner.</summary>
    public TimeSpan Duration { get; set; }

    public static ProbeResult Ok(List<ProbeMetric> metrics, IEnumerable<string>? warnings = null) => new()
    {
        Success = true,
        Metrics = metrics,
        Message = Truncate(string.Join("; ", warnings ?? [])),
    };

    public static ProbeResult Fail(ProbeFailure failure, string message, List<ProbeMetric>? metrics = null) => new()
    {
        Success = false,
        Failure = failure,
        Message = Truncate(message),
        Metrics = metrics ?? [],
    };

    /// <summary>The <c>reason</c> label value.</summary>
    public static string ReasonLabel(ProbeFailure failure) => failure switch
    {
        ProbeFailure.Timeout => "timeout",
        ProbeFailure.Refused => "refused",
        ProbeFailure.Dns => "dns",
        ProbeFailure.Status => "status",
        ProbeFailure.Body => "body",
        ProbeFailure.Tls => "tls",
        ProbeFailure.Auth => "auth",
        _ => "error",
    };

    private static string Truncate(string message)
    {
        var clean = new string(message.Select(c => char.IsControl(c) ? ' ' : c).ToArray());
        return clean.Length <= MaxMessageLength ? clean : clean[..(MaxMessageLength - 3)] + "...";
    }
}
