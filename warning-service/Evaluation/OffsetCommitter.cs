using Confluent.Kafka;

namespace Monitor.WarningService.Evaluation;

/// <summary>
/// The offsets a rule-evaluating consumer may commit: per partition, the offset after the newest consumed message.
/// The caller commits only after the state of every tracked message is persisted. A commit is a broker round trip
/// that blocks the consumer thread, so it happens at most every <c>Warning:CommitInterval</c> unless forced
/// (revocation, shutdown): a crash in between redelivers only messages whose state is already persisted, and the
/// evaluators recognise those by their timestamps and change nothing.
/// </summary>
internal sealed class OffsetCommitter(TimeSpan interval, TimeProvider timeProvider)
{
    private readonly Dictionary<TopicPartition, long> _next = [];
    private long _lastCommit = timeProvider.GetTimestamp();

    /// <summary>Partitions with consumed but uncommitted messages.</summary>
    public int Count => _next.Count;

    public void Track(TopicPartitionOffset consumed) => _next[consumed.TopicPartition] = consumed.Offset.Value + 1;

    /// <summary>
    /// Commits the tracked offsets when <paramref name="force"/> is set or the interval has passed since the last
    /// commit; returns the error of a failed commit (the offsets are dropped: the next commit covers them).
    /// </summary>
    public KafkaException? CommitIfDue(IConsumer<byte[]?, byte[]?> consumer, bool force)
    {
        if (_next.Count == 0 || (!force && timeProvider.GetElapsedTime(_lastCommit) < interval))
        {
            return null;
        }
        var offsets = _next.Select(kv => new TopicPartitionOffset(kv.Key, new Offset(kv.Value))).ToList();
        _next.Clear();
        _lastCommit = timeProvider.GetTimestamp();
        try
        {
            consumer.Commit(offsets);
            return null;
        }
        catch (KafkaException ex)
        {
            return ex;
        }
    }

    /// <summary>Forgets the tracked offsets (partitions revoked or lost: the next owner starts from the last commit).</summary>
    public void Clear() => _next.Clear();
}
