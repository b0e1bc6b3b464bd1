using Monitor.Protos.V1;

namespace Monitor.Agent.Collectors;

/// <summary>
/// Takes one snapshot of the host: runs every collector, one after the other, with one timestamp, each
/// bounded by <c>Agent:CollectorTimeout</c>. A collector that throws or takes longer is logged and
/// counted (its samples of that snapshot are dropped), and the others still report. One that may
/// block (<see cref="ICollector.MayBlock"/>) runs on a pool thread, is abandoned at the timeout and is
/// not started again until its stuck call returns (a hung NFS statvfs must not pile up threads). Adds
/// <c>agent_collector_duration_seconds{collector}</c> and <c>agent_collector_failures_total{collector}</c>.
/// </summary>
internal sealed partial class HostCollector
{
    private readonly ICollector[] _collectors;
    private readonly Task<TimeSpan>?[] _running;
    private readonly long[] _failures;
    private readonly IReadOnlyDictionary<string, string> _labels;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;

    public HostCollector(IEnumerable<ICollector> collectors, IReadOnlyDictionary<string, string> labels, TimeSpan timeout, TimeProvider timeProvider, ILogger<HostCollector> logger)
    {
        _collectors = [.. collectors];
        _running = new Task<TimeSpan>?[_collectors.Length];
        _failures = new long[_collectors.Length];
        _labels = labels;
        _timeout = timeout;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    /// <summary>Failures so far per collector name (for tests and diagnostics).</summary>
    public IReadOnlyDictionary<string, long> Failures =>
        _collectors.Select((c, i) => (c.Name, Count: Interlocked.Read(ref _failures[i]))).ToDictionary(x => x.Name, x => x.Count);

    /// <summary>Reads every counter once so that the first snapshot already has rates; its samples are discarded.</summary>
    public Task PrimeAsync(CancellationToken cancellationToken) => CollectAsync(0, [], selfSamples: false, cancellationToken);

    public Task CollectAsync(long timestampUnixMs, ICollection<Sample> into, CancellationToken cancellationToken) =>
        CollectAsync(timestampUnixMs, into, selfSamples: true, cancellationToken);

    private async Task CollectAsync(long timestampUnixMs, ICollection<Sample> into, bool selfSamples, CancellationToken cancellationToken)
    {
        // One collector at a time. Those that may block run on a pool thread and are abandoned at the
        // timeout; the /proc readers run inline and are only judged by their duration afterwards.
        var durations = new TimeSpan?[_collectors.Length];
        for (int i = 0; i < _collectors.Length; i++)
        {
            var collector = _collectors[i];
            if (_running[i] is { IsCompleted: false })
            {
                Interlocked.Increment(ref _failures[i]);
                Log.StillRunning(_logger, collector.Name);
                continue;
            }
            var writer = new SampleWriter(_labels, timestampUnixMs);
            var start = _timeProvider.GetTimestamp();
            try
            {
                if (collector.MayBlock)
                {
                    var timeProvider = _timeProvider;
                    var run = _running[i] = Task.Run(() =>
                    {
                        var t0 = timeProvider.GetTimestamp();
                        collector.Collect(writer);
                        return timeProvider.GetElapsedTime(t0);
                    }, CancellationToken.None);
                    durations[i] = await run.WaitAsync(_timeout, _timeProvider, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    collector.Collect(writer);
                    durations[i] = _timeProvider.GetElapsedTime(start);
                    if (durations[i] > _timeout)
                    {
                        throw new TimeoutException();
                    }
                }
                foreach (var s in writer.Samples)
                {
                    into.Add(s);
                }
            }
            catch (TimeoutException)
            {
                Interlocked.Increment(ref _failures[i]);
                durations[i] = _timeProvider.GetElapsedTime(start);
                Log.TimedOut(_logger, collector.Name, _timeout);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
#pragma warning disable CA1031 // A collector failing for any reason must not stop the others.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Interlocked.Increment(ref _failures[i]);
                Log.CollectorFailed(_logger, collector.Name, ex);
            }
        }

        if (!selfSamples)
        {
            return;
        }
        var self = new SampleWriter(_labels, timestampUnixMs);
        for (int i = 0; i < _collectors.Length; i++)
        {
            if (durations[i] is { } d)
            {
                self.Add("agent_collector_duration_seconds", d.TotalSeconds, "collector", _collectors[i].Name);
            }
            self.Add("agent_collector_failures_total", Interlocked.Read(ref _failures[i]), "collector", _collectors[i].Name);
        }
        foreach (var s in self.Samples)
        {
            into.Add(s);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4001, EventName = "CollectorFailed", Level = LogLevel.Warning,
            Message = "Collector {Collector} failed; the other collectors still report")]
        public static partial void CollectorFailed(ILogger logger, string collector, Exception exception);

        [LoggerMessage(EventId = 4002, EventName = "CollectorTimedOut", Level = LogLevel.Warning,
            Message = "Collector {Collector} took longer than {Timeout}; skipped for this snapshot")]
        public static partial void TimedOut(ILogger logger, string collector, TimeSpan timeout);

        [LoggerMessage(EventId = 4003, EventName = "CollectorStillRunning", Level = LogLevel.Warning,
            Message = "Collector {Collector} is still stuck in its previous run; skipped again")]
        public static partial void StillRunning(ILogger logger, string collector);
    }
}
