// This file is also compiled into the agent and the prober (linked from agent/Monitor.Agent.csproj and
// agent/prober/Monitor.Prober.csproj), which cannot reference this ASP.NET Core library: one reader, so the services'
// self-metrics feed and the agents' samples carry the same figures under the same names. Keep it free of dependencies
// beyond the BCL and trim-safe (the agent is NativeAOT).
namespace Monitor.Diagnostics.SelfMetrics;

/// <summary>One runtime figure of the own process.</summary>
/// <param name="Metric">Sample metric name (<c>[a-z][a-z0-9_]*</c>).</param>
/// <param name="IsCounter">True: <paramref name="Value"/> is the increase since the previous reading; false: a gauge.</param>
/// <param name="LabelKey">The one label of the figure (<c>generation</c>), or null.</param>
/// <param name="LabelValue">Its value (bounded: <c>gen0</c>, <c>gen1</c>, <c>gen2</c>), or null.</param>
/// <param name="Value">Counters: the increase since the previous reading; gauges: the value.</param>
/// <param name="Total">Counters: the total since the process started; gauges: the value again.</param>
internal readonly record struct RuntimeFigure(string Metric, bool IsCounter, string? LabelKey, string? LabelValue, double Value, double Total);

/// <summary>
/// The figures the runtime's own <c>System.Runtime</c> meter publishes (GC, thread pool, CPU, working set, exceptions,
/// lock contention), read straight from the runtime APIs rather than through a <c>MeterListener</c>, so that the same
/// code works in the NativeAOT agent (built with <c>EventSourceSupport=false</c>) and in the services. Counters are
/// reported as their increase since the previous <see cref="Read"/> (the self-metrics convention), gauges as their value.
/// Names (docs/observability.md): <c>monitor_process_cpu_percent</c> (% of all cores over the interval),
/// <c>monitor_process_cpu_seconds</c>, <c>monitor_process_working_set_bytes</c>, <c>monitor_process_uptime_seconds</c>,
/// <c>monitor_gc_heap_bytes</c>, <c>monitor_gc_committed_bytes</c>, <c>monitor_gc_fragmentation_bytes</c>,
/// <c>monitor_gc_allocated_bytes</c>, <c>monitor_gc_collections{generation}</c>, <c>monitor_gc_pause_seconds</c>,
/// <c>monitor_threadpool_threads</c>, <c>monitor_threadpool_queue_length</c>, <c>monitor_threadpool_completed_items</c>,
/// <c>monitor_lock_contentions</c>, <c>monitor_exceptions</c>. Not thread-safe: one reader calls <see cref="Read"/>.
/// </summary>
internal sealed class RuntimeFigures
{
    private static readonly string[] Generations = ["gen0", "gen1", "gen2"];
    private static long s_exceptions;
    private static int s_subscribed;

    private readonly TimeProvider _timeProvider;
    private readonly long _startedAt;
    private long _lastAt;
    private Raw _last;

    /// <summary>Takes the baseline: the first <see cref="Read"/> reports the increases since this moment.</summary>
    public RuntimeFigures(TimeProvider timeProvider)
    {
        // The runtime counts no exceptions for us outside EventPipe/the System.Runtime meter: count first-chance
        // exceptions ourselves, once per process however many readers there are.
        if (Interlocked.Exchange(ref s_subscribed, 1) == 0)
        {
            AppDomain.CurrentDomain.FirstChanceException += static (_, _) => Interlocked.Increment(ref s_exceptions);
        }
        _timeProvider = timeProvider;
        _startedAt = _lastAt = timeProvider.GetTimestamp();
        _last = Raw.Take();
    }

    /// <summary>Reads the runtime and returns every figure (counter increases since the previous call or the construction).</summary>
    public List<RuntimeFigure> Read()
    {
        var now = _timeProvider.GetTimestamp();
        var interval = _timeProvider.GetElapsedTime(_lastAt, now).TotalSeconds;
        var raw = Raw.Take();
        var last = _last;
        _last = raw;
        _lastAt = now;
        var gc = GC.GetGCMemoryInfo();
        var figures = new List<RuntimeFigure>(18);
        void Gauge(string metric, double value) => figures.Add(new RuntimeFigure(metric, false, null, null, Math.Round(value, 3), Math.Round(value, 3)));
        void Counter(string metric, double total, double previous, string? labelKey = null, string? labelValue = null) =>
            figures.Add(new RuntimeFigure(metric, true, labelKey, labelValue, Math.Round(Math.Max(0, total - previous), 6), Math.Round(total, 6)));

        var cpuSeconds = (raw.Cpu - last.Cpu).TotalSeconds;
        Gauge("monitor_process_cpu_percent", interval > 0 ? Math.Max(0, cpuSeconds / interval / Environment.ProcessorCount * 100) : 0);
        Counter("monitor_process_cpu_seconds", raw.Cpu.TotalSeconds, last.Cpu.TotalSeconds);
        Gauge("monitor_process_working_set_bytes", Environment.WorkingSet);
        Gauge("monitor_process_uptime_seconds", _timeProvider.GetElapsedTime(_startedAt, now).TotalSeconds);
        // In use now (GC.GetTotalMemory), not the size after the last collection (0 until the first one).
        Gauge("monitor_gc_heap_bytes", GC.GetTotalMemory(forceFullCollection: false));
        Gauge("monitor_gc_committed_bytes", gc.TotalCommittedBytes);
        Gauge("monitor_gc_fragmentation_bytes", gc.FragmentedBytes);
        Counter("monitor_gc_allocated_bytes", raw.Allocated, last.Allocated);
        for (int g = 0; g < Generations.Length; g++)
        {
            Counter("monitor_gc_collections", raw.Collections[g], last.Collections[g], "generation", Generations[g]);
        }
        Counter("monitor_gc_pause_seconds", raw.Pause.TotalSeconds, last.Pause.TotalSeconds);
        Gauge("monitor_threadpool_threads", ThreadPool.ThreadCount);
        Gauge("monitor_threadpool_queue_length", ThreadPool.PendingWorkItemCount);
        Counter("monitor_threadpool_completed_items", raw.Completed, last.Completed);
        Counter("monitor_lock_contentions", raw.Contentions, last.Contentions);
        Counter("monitor_exceptions", raw.Exceptions, last.Exceptions);
        return figures;
    }

    /// <summary>The cumulative counters at one moment.</summary>
    private readonly record struct Raw(TimeSpan Cpu, long Allocated, int[] Collections, TimeSpan Pause, long Completed, long Contentions, long Exceptions)
    {
        public static Raw Take() => new(
            Environment.CpuUsage.TotalTime,
            GC.GetTotalAllocatedBytes(precise: false),
            [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)],
            GC.GetTotalPauseDuration(),
            ThreadPool.CompletedWorkItemCount,
            System.Threading.Monitor.LockContentionCount,
            Interlocked.Read(ref s_exceptions));
    }
}
