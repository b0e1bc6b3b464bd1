namespace Monitor.PersistentService.Kafka;

/// <summary>
/// Writes in flight, oldest first. A write's item (its buffer and the messages whose offsets it covers) is handed back
/// only when that write and every older one completed, so offsets are committed in order whichever write finishes
/// first. A failed write stays at the head: nothing younger is ever handed back past it.
/// </summary>
internal sealed class InFlightWrites<T>
{
    private readonly Queue<(Task Write, T Item)> _queue = new();

    public int Count => _queue.Count;

    /// <summary>The items of every write in flight, oldest first.</summary>
    public IEnumerable<T> Items => _queue.Select(e => e.Item);

    /// <summary>True when the oldest write has ended (so <see cref="CompleteOldestAsync"/> will not wait).</summary>
    public bool OldestEnded => _queue.TryPeek(out var oldest) && oldest.Write.IsCompleted;

    public void Add(Task write, T item) => _queue.Enqueue((write, item));

    /// <summary>Awaits the oldest write and returns its item. If the write failed, rethrows and keeps it at the head.</summary>
    public async Task<T> CompleteOldestAsync()
    {
        var (write, item) = _queue.Peek();
        await write.ConfigureAwait(false);
        _queue.Dequeue();
        return item;
    }

    /// <summary>
    /// Removes every write, oldest first, after it ended (its buffer may still be on the wire until then), whether it
    /// succeeded or not: the caller gives up on committing them (partitions revoked or lost).
    /// </summary>
    public List<T> Abandon(Func<Exception, bool> expected)
    {
        var items = new List<T>(_queue.Count);
        while (_queue.TryDequeue(out var entry))
        {
            try
            {
                entry.Write.GetAwaiter().GetResult();
            }
            catch (Exception ex) when (expected(ex))
            {
                // Uncommitted either way: the messages are redelivered.
            }
            items.Add(entry.Item);
        }
        return items;
    }
}
