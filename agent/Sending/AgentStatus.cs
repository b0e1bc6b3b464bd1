namespace Monitor.Agent.Sending;

/// <summary>Counters of the agent's own health, shared by the spool, the sender and the agent collector.</summary>
internal sealed class AgentStatus
{
    private long _spoolBatches;
    private long _spoolBytes;
    private long _droppedSamples;
    private long _droppedBatches;
    private long _reconnects;

    public long SpoolBatches => Interlocked.Read(ref _spoolBatches);
    public long SpoolBytes => Interlocked.Read(ref _spoolBytes);
    public long DroppedSamples => Interlocked.Read(ref _droppedSamples);
    public long DroppedBatches => Interlocked.Read(ref _droppedBatches);
    public long Reconnects => Interlocked.Read(ref _reconnects);

    public void SetSpoolDepth(long batches, long bytes)
    {
        Interlocked.Exchange(ref _spoolBatches, batches);
        Interlocked.Exchange(ref _spoolBytes, bytes);
    }

    public void AddDropped(long batches, long samples)
    {
        Interlocked.Add(ref _droppedBatches, batches);
        Interlocked.Add(ref _droppedSamples, samples);
    }

    public void AddReconnect() => Interlocked.Increment(ref _reconnects);
}
