using Grpc.Net.Client;
using Microsoft.Extensions.Options;
using Monitor.ServiceDefaults.Discovery;

namespace Monitor.ManageService.Registry;

/// <summary>
/// One gRPC channel to etcd (the generated etcd clients are used directly, so the watch loop sees every stream
/// failure). <see cref="Rotate"/> moves to the next configured endpoint after a failure.
/// </summary>
internal sealed class EtcdConnection : IDisposable
{
    private readonly IReadOnlyList<string> _endpoints;
    private readonly Lock _lock = new();
    private GrpcChannel? _channel;
    private int _index;

    public EtcdConnection(IOptions<EtcdOptions> options)
    {
        _endpoints = options.Value.EffectiveEndpoints;
    }

    public bool Enabled => _endpoints.Count > 0;

    public string CurrentEndpoint => _endpoints[_index % _endpoints.Count];

    public GrpcChannel Channel
    {
        get
        {
            lock (_lock)
            {
                return _channel ??= GrpcChannel.ForAddress(CurrentEndpoint);
            }
        }
    }

    public void Rotate()
    {
        lock (_lock)
        {
            _channel?.Dispose();
            _channel = null;
            _index++;
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _channel?.Dispose();
            _channel = null;
        }
    }
}
