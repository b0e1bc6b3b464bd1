using Monitor.Agent.Sending;

namespace Monitor.Agent.Collectors;

/// <summary>
/// The agent's own health: <c>agent_spool_batches</c>, <c>agent_spool_bytes</c>,
/// <c>agent_dropped_samples_total</c>, <c>agent_dropped_batches_total</c>, <c>agent_reconnects_total</c>.
/// (Collector durations and failures are added by <c>HostCollector</c>.) The prober, which runs the agent's
/// sender, reports the same figures labelled <c>component="prober"</c> (<paramref name="component"/>), so they do not
/// mix with the series of an agent on the same host; the agent's own carry no <c>component</c> label, as before.
/// </summary>
internal sealed class AgentCollector(AgentStatus status, string? component = null) : ICollector
{
    public string Name => "agent";

    public void Collect(SampleWriter writer)
    {
        var key = component is null ? null : "component";
        writer.Add("agent_spool_batches", status.SpoolBatches, key, component);
        writer.Add("agent_spool_bytes", status.SpoolBytes, key, component);
        writer.Add("agent_dropped_samples_total", status.DroppedSamples, key, component);
        writer.Add("agent_dropped_batches_total", status.DroppedBatches, key, component);
        writer.Add("agent_reconnects_total", status.Reconnects, key, component);
    }
}
