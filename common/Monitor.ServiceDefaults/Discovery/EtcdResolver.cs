using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Balancer;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Monitor.ServiceDefaults.Discovery;

/// <summary>
/// gRPC name resolution from the etcd registry: a channel for <c>etcd:///manage</c> connects to the gRPC endpoints of
/// the live instances under <c>{Etcd:Prefix}/manage/</c>. Registered by <c>AddMonitorWebDefaults</c>;
/// the gRPC client factory hands it to every channel it builds. The channel's load balancer (pick_first by default)
/// moves to another instance when one fails, and the list follows etcd (range, then watch) as instances register or
/// their leases expire.
/// </summary>
public sealed class EtcdResolverFactory(IOptions<EtcdOptions> etcdOptions) : ResolverFactory
{
    private readonly EtcdOptions _etcd = etcdOptions.Value;

    /// <summary>The URI scheme: <c>etcd:///{kind}</c>.</summary>
    public const string Scheme = "etcd";

    /// <summary>The address of the instances of <paramref name="kind"/> (e.g. <c>etcd:///manage</c>).</summary>
    /// <param name="kind">Service kind as registered in etcd.</param>
    /// <returns>The channel address.</returns>
    public static Uri AddressOf(string kind) => new($"{Scheme}:///{kind}");

    /// <inheritdoc />
    public override string Name => Scheme;

    /// <inheritdoc />
    public override Resolver Create(ResolverOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var kind = options.Address.AbsolutePath.Trim('/');
        return new EtcdResolver(_etcd, kind, options.LoggerFactory.CreateLogger<EtcdResolver>());
    }
}

/// <summary>Resolves one service kind from the etcd registry and pushes every change to the channel.</summary>
public sealed partial class EtcdResolver : Resolver
{
    private readonly EtcdOptions _options;
    private readonly string _kind;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Dictionary<string, BalancerAddress> _instances = new(StringComparer.Ordinal);
    private Action<ResolverResult>? _listener;

    /// <summary>Creates a resolver for <paramref name="kind"/>.</summary>
    /// <param name="options">etcd endpoints and registry prefix.</param>
    /// <param name="kind">Service kind (the key segment after the prefix).</param>
    /// <param name="logger">Logger.</param>
    public EtcdResolver(EtcdOptions options, string kind, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(kind);
        _options = options;
        _kind = kind;
        _logger = logger;
    }

    /// <inheritdoc />
    public override void Start(Action<ResolverResult> listener)
    {
        _listener = listener ?? throw new ArgumentNullException(nameof(listener));
        if (_options.EffectiveEndpoints.Count == 0)
        {
            listener(ResolverResult.ForFailure(new Status(StatusCode.Unavailable, $"no etcd endpoints configured to discover '{_kind}' instances (Etcd:Endpoints)")));
            return;
        }
        _ = Task.Run(() => RunAsync(_stop.Token));
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _stop.Cancel();
            _stop.Dispose();
        }
        base.Dispose(disposing);
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var prefix = $"{_options.Prefix}/{_kind}/";
        var endpoints = _options.EffectiveEndpoints;
        var attempt = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            var endpoint = endpoints[attempt++ % endpoints.Count];
            try
            {
                using var channel = GrpcChannel.ForAddress(endpoint);
                await EtcdPrefixWatch.RunAsync(channel, prefix,
                    snapshot =>
                    {
                        _instances.Clear();
                        foreach (var kv in snapshot)
                        {
                            Put(kv.Key.ToStringUtf8(), kv.Value);
                        }
                        Publish();
                        return ValueTask.CompletedTask;
                    },
                    events =>
                    {
                        foreach (var ev in events)
                        {
                            if (ev.Type == Mvccpb.Event.Types.EventType.Put)
                            {
                                Put(ev.Kv.Key.ToStringUtf8(), ev.Kv.Value);
                            }
                            else
                            {
                                _instances.Remove(ev.Kv.Key.ToStringUtf8());
                            }
                        }
                        Publish();
                        return ValueTask.CompletedTask;
                    },
                    cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is RpcException or InvalidOperationException or HttpRequestException or IOException or ObjectDisposedException)
            {
                // Keep the last known addresses: the instances may well be fine while etcd is away.
                Log.WatchFailed(_logger, _kind, endpoint, ex);
            }
            try
            {
                await Task.Delay(_options.RetryDelay, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private void Put(string key, ByteString value)
    {
        ServiceRecord? record;
        try
        {
            record = JsonSerializer.Deserialize(value.Span, DiscoveryJsonContext.Default.ServiceRecord);
        }
        catch (JsonException)
        {
            record = null;
        }
        if (record?.Grpc is { } grpc && Uri.TryCreate(grpc, UriKind.Absolute, out var uri))
        {
            _instances[key] = new BalancerAddress(uri.Host, uri.Port);
        }
        else
        {
            _instances.Remove(key);
        }
    }

    private void Publish()
    {
        if (_instances.Count == 0)
        {
            // An empty list, not a failure: gRPC keeps using the last good addresses after a resolver failure, but
            // instances that deregistered must not be called any more. Calls fail with Unavailable until one registers.
            Log.NoInstance(_logger, _kind);
            _listener?.Invoke(ResolverResult.ForResult([]));
            return;
        }
        var addresses = _instances.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Value).ToList();
        var described = string.Join(", ", addresses.Select(a => a.EndPoint.ToString()));
        Log.Resolved(_logger, _kind, described);
        _listener?.Invoke(ResolverResult.ForResult(addresses));
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1301, EventName = "EtcdResolved", Level = LogLevel.Information, Message = "Discovered {Kind} instances in etcd: {Addresses}")]
        public static partial void Resolved(ILogger logger, string kind, string addresses);

        [LoggerMessage(EventId = 1302, EventName = "EtcdResolveNoInstance", Level = LogLevel.Warning, Message = "No live {Kind} instance is registered in etcd")]
        public static partial void NoInstance(ILogger logger, string kind);

        [LoggerMessage(EventId = 1303, EventName = "EtcdResolveWatchFailed", Level = LogLevel.Warning,
            Message = "Watching {Kind} instances in etcd on {Endpoint} failed; keeping the last known addresses and retrying")]
        public static partial void WatchFailed(ILogger logger, string kind, string endpoint, Exception exception);
    }
}

/// <summary>Channel settings for a peer that may be addressed through the etcd registry.</summary>
public static class DiscoveredChannel
{
    /// <summary>
    /// For an <c>etcd:///{kind}</c> address: plaintext HTTP/2 to the discovered instances (their registered gRPC URLs
    /// are h2c), resolved by <see cref="EtcdResolverFactory"/>. Any other address is left as configured.
    /// </summary>
    /// <param name="address">The configured address.</param>
    /// <param name="options">The channel options to adjust.</param>
    public static void Configure(Uri? address, Grpc.Net.Client.GrpcChannelOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (address?.Scheme == EtcdResolverFactory.Scheme)
        {
            options.Credentials = ChannelCredentials.Insecure;
        }
    }
}
