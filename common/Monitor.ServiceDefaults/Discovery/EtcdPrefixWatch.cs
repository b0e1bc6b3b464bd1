using Etcdserverpb;
using Google.Protobuf;
using Google.Protobuf.Collections;
using Grpc.Core;
using Grpc.Net.Client;
using Mvccpb;

namespace Monitor.ServiceDefaults.Discovery;

/// <summary>
/// The one way Monitor follows an etcd prefix: a range read, then a watch from the revision after it, so no change
/// between the two is lost. Callers own the retry loop (and what to log); this runs one round.
/// </summary>
public static class EtcdPrefixWatch
{
    /// <summary>The etcd range end that covers every key starting with <paramref name="prefix"/>.</summary>
    /// <param name="prefix">A non-empty key prefix.</param>
    /// <returns>The prefix with its last character incremented.</returns>
    public static string RangeEnd(string prefix)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        return prefix[..^1] + (char)(prefix[^1] + 1);
    }

    /// <summary>
    /// Reads every key under <paramref name="prefix"/> and hands them to <paramref name="onSnapshot"/>, then watches
    /// and hands each response's events to <paramref name="onEvents"/>. Returns only by cancellation or by throwing
    /// <see cref="InvalidOperationException"/> when etcd cancels or ends the watch (or an <see cref="RpcException"/>).
    /// </summary>
    /// <param name="channel">gRPC channel to one etcd endpoint.</param>
    /// <param name="prefix">Key prefix to follow.</param>
    /// <param name="onSnapshot">Receives the current keys (once per round).</param>
    /// <param name="onEvents">Receives every non-empty batch of put/delete events.</param>
    /// <param name="cancellationToken">Ends the round.</param>
    /// <returns>A task that ends with the watch.</returns>
    public static async Task RunAsync(
        GrpcChannel channel,
        string prefix,
        Func<RepeatedField<KeyValue>, ValueTask> onSnapshot,
        Func<RepeatedField<Event>, ValueTask> onEvents,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(onSnapshot);
        ArgumentNullException.ThrowIfNull(onEvents);
        var key = ByteString.CopyFromUtf8(prefix);
        var rangeEnd = ByteString.CopyFromUtf8(RangeEnd(prefix));
        var range = await new KV.KVClient(channel).RangeAsync(new RangeRequest { Key = key, RangeEnd = rangeEnd }, cancellationToken: cancellationToken).ConfigureAwait(false);
        await onSnapshot(range.Kvs).ConfigureAwait(false);
        using var call = new Watch.WatchClient(channel).Watch(cancellationToken: cancellationToken);
        await call.RequestStream.WriteAsync(new WatchRequest
        {
            CreateRequest = new WatchCreateRequest { Key = key, RangeEnd = rangeEnd, StartRevision = range.Header.Revision + 1 },
        }, cancellationToken).ConfigureAwait(false);
        await foreach (var response in call.ResponseStream.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            if (response.Canceled)
            {
                throw new InvalidOperationException($"etcd cancelled the watch: {response.CancelReason}");
            }
            if (response.Events.Count > 0)
            {
                await onEvents(response.Events).ConfigureAwait(false);
            }
        }
        throw new InvalidOperationException("etcd ended the watch stream");
    }

    /// <summary>
    /// <see cref="RunAsync(GrpcChannel, string, Func{RepeatedField{KeyValue}, ValueTask}, Func{RepeatedField{Event}, ValueTask}, CancellationToken)"/>
    /// for callers that follow the prefix as a whole: keeps key → UTF-8 value for the round and hands the whole map to
    /// <paramref name="onChange"/> after the range read and after every batch of events. The map is the round's own
    /// and changes after the callback returns: keep a copy, not the map.
    /// </summary>
    /// <param name="channel">gRPC channel to one etcd endpoint.</param>
    /// <param name="prefix">Key prefix to follow.</param>
    /// <param name="onChange">Receives every key under the prefix and its value, on each change.</param>
    /// <param name="cancellationToken">Ends the round.</param>
    /// <returns>A task that ends with the watch, as the other overload's.</returns>
    public static Task RunAsync(
        GrpcChannel channel,
        string prefix,
        Func<IReadOnlyDictionary<string, string>, ValueTask> onChange,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(onChange);
        var current = new Dictionary<string, string>(StringComparer.Ordinal);
        return RunAsync(channel, prefix,
            kvs =>
            {
                current.Clear();
                foreach (var kv in kvs)
                {
                    current[kv.Key.ToStringUtf8()] = kv.Value.ToStringUtf8();
                }
                return onChange(current);
            },
            events =>
            {
                foreach (var ev in events)
                {
                    if (ev.Type == Event.Types.EventType.Put)
                    {
                        current[ev.Kv.Key.ToStringUtf8()] = ev.Kv.Value.ToStringUtf8();
                    }
                    else
                    {
                        current.Remove(ev.Kv.Key.ToStringUtf8());
                    }
                }
                return onChange(current);
            },
            cancellationToken);
    }
}
