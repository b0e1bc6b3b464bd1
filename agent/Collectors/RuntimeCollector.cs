using Monitor.Diagnostics.SelfMetrics;

namespace Monitor.Agent.Collectors;

/// <summary>
/// The process's own runtime figures as samples of the host, labelled <c>component</c> (<c>agent</c> or <c>prober</c>,
/// so an agent and a prober on one host keep separate series): the same figures and names the services feed from
/// their <c>System.Runtime</c> meter (<see cref="RuntimeFigures"/>: <c>monitor_process_cpu_percent</c>,
/// <c>monitor_gc_heap_bytes</c>, <c>monitor_gc_collections{generation}</c>, <c>monitor_exceptions</c>, …). Counters are
/// the increase since the previous snapshot. The agent reports instead of listening: it opens no port.
/// </summary>
internal sealed class RuntimeCollector(string component, TimeProvider timeProvider) : ICollector
{
    public const string AgentComponent = "agent";
    public const string ProberComponent = "prober";

    private readonly RuntimeFigures _figures = new(timeProvider);

    public string Name => "runtime";

    public void Collect(SampleWriter writer)
    {
        foreach (var f in _figures.Read())
        {
            writer.Add(f.Metric, f.Value, "component", component, f.LabelKey, f.LabelValue);
        }
    }
}
