using System.Collections.Frozen;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Monitor.Protos.V1;
using Monitor.WarningService.Options;

namespace Monitor.WarningService.Notifications;

/// <summary>
/// Host → location, read from the manage service every <see cref="ManageOptions.RefreshInterval"/> and held in
/// memory, so the consumer thread never waits on a call. Until the first read succeeds no location is known.
/// </summary>
internal sealed partial class ManageHostDirectory(
    IServiceProvider services,
    IOptions<ManageOptions> options,
    TimeProvider timeProvider,
    ILogger<ManageHostDirectory> logger) : BackgroundService, IHostLocationResolver
{
    private volatile FrozenDictionary<string, string> _locations = FrozenDictionary<string, string>.Empty;

    public string? LocationOf(string hostId) => _locations.TryGetValue(hostId, out var location) && location.Length > 0 ? location : null;

    public IReadOnlyList<string> HostsIn(string location) => _locations.Where(kv => kv.Value == location).Select(kv => kv.Key).ToList();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.Address is null)
        {
            return;
        }
        var client = services.GetRequiredService<ManageService.ManageServiceClient>();
        while (!stoppingToken.IsCancellationRequested)
        {
            var delay = options.Value.RefreshInterval;
            try
            {
                var map = new Dictionary<string, string>(StringComparer.Ordinal);
                var token = "";
                do
                {
                    var page = await client.ListHostsAsync(new ListHostsRequest { PageSize = 1000, PageToken = token },
                        deadline: timeProvider.GetUtcNow().Add(options.Value.CallTimeout).UtcDateTime, cancellationToken: stoppingToken).ConfigureAwait(false);
                    foreach (var host in page.Hosts)
                    {
                        map[host.HostId] = host.Location;
                    }
                    token = page.NextPageToken;
                }
                while (token.Length > 0);
                _locations = map.ToFrozenDictionary(StringComparer.Ordinal);
            }
            catch (RpcException ex) when (!stoppingToken.IsCancellationRequested)
            {
                Log.RefreshFailed(logger, ex.StatusCode, ex.Status.Detail);
                // e.g. at start-up, before manage has registered: try again soon rather than a whole refresh interval later.
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks, RetryDelay.Ticks));
            }
            try
            {
                await Task.Delay(delay, timeProvider, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(2);

    private static partial class Log
    {
        [LoggerMessage(EventId = 7501, EventName = "HostDirectoryRefreshFailed", Level = LogLevel.Warning,
            Message = "Reading hosts and locations from the manage service failed ({Status}: {Detail}); keeping the previous list")]
        public static partial void RefreshFailed(ILogger logger, StatusCode status, string detail);
    }
}
