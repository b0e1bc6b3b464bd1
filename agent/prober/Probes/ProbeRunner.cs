using Monitor.Prober.Targets;

namespace Monitor.Prober.Probes;

/// <summary>
/// Runs a probe under a hard deadline. The probe gets a token cancelled at the target's timeout,
/// and independently the runner stops waiting at that moment: a client library that ignores
/// cancellation (a Redis client waiting on a frozen server, a blocking Kafka call) is abandoned,
/// its eventual outcome observed and dropped. A run therefore returns within the timeout plus
/// scheduling noise, whatever the library does.
/// </summary>
internal sealed class ProbeRunner(TimeProvider timeProvider)
{
    public async Task<ProbeResult> RunAsync(IProbe probe, TargetDefinition target, CancellationToken stoppingToken)
    {
        var started = timeProvider.GetTimestamp();
        using var deadline = new CancellationTokenSource(target.Timeout, timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, stoppingToken);
        var work = Task.Run(() => probe.RunAsync(linked.Token), CancellationToken.None);
        var expired = Task.Delay(Timeout.InfiniteTimeSpan, linked.Token);
        var first = await Task.WhenAny(work, expired).ConfigureAwait(false);

        ProbeResult result;
        if (first == work && (work.IsCompletedSuccessfully || !deadline.IsCancellationRequested))
        {
            try
            {
                result = await work.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                result = ProbeErrors.ToResult(ex);
            }
        }
        else
        {
            stoppingToken.ThrowIfCancellationRequested();
            // Abandoned: observe whatever the call ends with so it is not an unobserved exception.
            _ = work.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            result = ProbeResult.Fail(ProbeFailure.Timeout, $"no result within the timeout of {target.Timeout.TotalSeconds:0.###} s");
        }
        result.Duration = timeProvider.GetElapsedTime(started);
        return result;
    }
}
