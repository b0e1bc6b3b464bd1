using Microsoft.Extensions.Options;
using Monitor.Agent.Collectors;
using Monitor.Agent.Options;
using Monitor.Agent.Sending;
using Monitor.Protos.V1;

namespace Monitor.Prober.Scheduling;

/// <summary>
/// Every <c>Agent:Interval</c> (default 60 s), spools one batch of the prober's own figures: the agent's spool figures
/// (<c>agent_spool_batches</c>, <c>agent_dropped_samples_total</c>, …) and the runtime figures
/// (<c>monitor_gc_heap_bytes</c>, <c>monitor_process_cpu_percent</c>, …), all labelled <c>component="prober"</c> so
/// they stay apart from an agent's series on the same host. <c>Agent:DisabledCollectors</c> <c>agent</c> and
/// <c>runtime</c> turn the two parts off.
/// </summary>
internal sealed partial class SelfFiguresWorker(
    AgentStatus status,
    ResultEmitter emitter,
    IOptions<AgentOptions> options,
    TimeProvider timeProvider,
    ILogger<SelfFiguresWorker> logger) : BackgroundService
{
    private readonly List<ICollector> _collectors = CreateCollectors(status, options.Value, timeProvider);

    internal static List<ICollector> CreateCollectors(AgentStatus status, AgentOptions options, TimeProvider timeProvider) =>
        new List<ICollector>
        {
            new AgentCollector(status, RuntimeCollector.ProberComponent),
            new RuntimeCollector(RuntimeCollector.ProberComponent, timeProvider),
        }.Where(c => !options.DisabledCollectors.Contains(c.Name, StringComparer.Ordinal)).ToList();

    /// <summary>One snapshot of the figures, all with one timestamp.</summary>
    internal List<Sample> Collect()
    {
        var writer = new SampleWriter(new Dictionary<string, string>(), timeProvider.GetUtcNow().ToUnixTimeMilliseconds());
        foreach (var collector in _collectors)
        {
            collector.Collect(writer);
        }
        return writer.Samples;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_collectors.Count == 0)
        {
            return;
        }
        using var timer = new PeriodicTimer(options.Value.Interval, timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    emitter.EmitSelf(Collect());
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
                {
                    Log.EmitFailed(logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4620, EventName = "SelfFiguresEmitFailed", Level = LogLevel.Error,
            Message = "Could not spool the prober's own figures; trying again next interval")]
        public static partial void EmitFailed(ILogger logger, Exception exception);
    }
}
