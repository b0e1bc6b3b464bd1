using Monitor.Protos.V1;

namespace Monitor.Agent.Sending;

/// <summary>
/// Batches waiting for an ack, in sequence order. Bounded: when full the oldest batch is dropped
/// and counted. Thread-safe: the sampler adds, the sender reads and removes.
/// </summary>
internal sealed class PendingBatches(int capacity)
{
    private readonly SortedDictionary<ulong, SampleBatch> _batches = [];
    private readonly Lock _lock = new();
    private TaskCompletionSource _added = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public long DroppedBatches { get; private set; }

    public long DroppedSamples { get; private set; }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _batches.Count;
            }
        }
    }

    /// <summary>Adds a batch; returns the batch dropped to make room, if any.</summary>
    public SampleBatch? Add(SampleBatch batch)
    {
        SampleBatch? dropped = null;
        TaskCompletionSource added;
        lock (_lock)
        {
            if (_batches.Count >= capacity)
            {
                var oldest = _batches.First();
                _batches.Remove(oldest.Key);
                dropped = oldest.Value;
                DroppedBatches++;
                DroppedSamples += dropped.Samples.Count;
            }
            _batches[batch.Sequence] = batch;
            added = _added;
            _added = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        added.TrySetResult();
        return dropped;
    }

    /// <summary>Removes an acknowledged batch; null when it was not pending (a duplicate ack).</summary>
    public SampleBatch? Remove(ulong sequence)
    {
        lock (_lock)
        {
            return _batches.Remove(sequence, out var batch) ? batch : null;
        }
    }

    /// <summary>Pending batches with a sequence above <paramref name="after"/>, in order.</summary>
    public List<SampleBatch> After(ulong after)
    {
        lock (_lock)
        {
            return _batches.Where(kv => kv.Key > after).Select(kv => kv.Value).ToList();
        }
    }

    /// <summary>Completes when a batch is added after this call.</summary>
    public Task WaitForAddAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return _added.Task.WaitAsync(cancellationToken);
        }
    }
}
