using Monitor.Agent.Sending;

namespace Monitor.Agent.Collectors;

/// <summary>
/// The agent's own health: <c>agent_spool_batches</c>, <c>agent_spool_bytes</c>,
/// <c>agent_dropped_samples_total</c>, <c>agent_dropped_batches_total</c>, <c>agent_reconnects_total</c>.
/// (Collector durations and failures are added by <see cref="HostCollector"/>.)
/// </summary>
internal sealed class AgentCollector(AgentStatus status) : ICollector
{
    public string Name => "agent";

    public void Collect(SampleWriter writer)
    {
        writer.Add("agent_spool_batches", status.SpoolBatches);
        writer.Add("agent_spool_bytes", status.SpoolBytes);
        writer.Add("agent_dropped_samples_total", status.DroppedSamples);
        writer.Add("agent_dropped_batches_total", status.DroppedBatches);
        writer.Add("agent_reconnects_total", status.Reconnects);
    }
}
