using System.Collections.Concurrent;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Monitor.AnalyzeService.Options;
using Monitor.AnalyzeService.Query;
using Monitor.Protos.V1;

namespace Monitor.AnalyzeService.Manage;

/// <summary>Resolves a location to its hosts.</summary>
internal interface IHostDirectory
{
    /// <summary>The host ids of <paramref name="location"/>, sorted; throws <see cref="AnalyzeNotFoundException"/> when it has none.</summary>
    Task<IReadOnlyList<string>> HostsOfAsync(string location, CancellationToken cancellationToken);
}

/// <summary>Asks the manage service (<c>ManageService.ListHosts</c>, all pages) and caches the answer briefly.</summary>
internal sealed class ManageHostDirectory(
    ManageService.ManageServiceClient client,
    IOptions<ManageClientOptions> options,
    IOptions<AnalyzeOptions> analyzeOptions,
    TimeProvider timeProvider) : IHostDirectory
{
    private const int PageSize = 5000;
    private readonly ConcurrentDictionary<string, (DateTimeOffset At, IReadOnlyList<string> Hosts)> _cache = new(StringComparer.Ordinal);

    public async Task<IReadOnlyList<string>> HostsOfAsync(string location, CancellationToken cancellationToken)
    {
        var ttl = options.Value.LocationCacheTtl;
        var now = timeProvider.GetUtcNow();
        if (ttl > TimeSpan.Zero && _cache.TryGetValue(location, out var cached) && now - cached.At < ttl)
        {
            return cached.Hosts;
        }

        var hosts = new List<string>();
        var request = new ListHostsRequest { Location = location, PageSize = PageSize };
        var limit = analyzeOptions.Value.MaxHostsPerQuery;
        try
        {
            do
            {
                var response = await client.ListHostsAsync(
                    request, deadline: timeProvider.GetUtcNow().UtcDateTime + options.Value.CallTimeout, cancellationToken: cancellationToken).ConfigureAwait(false);
                // Guard against a manage service that ignores the location filter.
                hosts.AddRange(response.Hosts.Where(h => string.Equals(h.Location, location, StringComparison.Ordinal)).Select(h => h.HostId));
                if (hosts.Count > limit)
                {
                    throw new AnalyzeValidationException("location", $"location '{location}' has more than {limit} hosts, the most one query may span.");
                }
                request.PageToken = response.NextPageToken;
            }
            while (!string.IsNullOrEmpty(request.PageToken));
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Unknown or StatusCode.Internal or StatusCode.ResourceExhausted)
        {
            throw new AnalyzeUnavailableException($"The manage service at {options.Value.Address} cannot list the hosts of location '{location}': {ex.Status.Detail}", ex);
        }

        if (hosts.Count == 0)
        {
            throw new AnalyzeNotFoundException("location", $"unknown location '{location}': the manage service lists no hosts for it.");
        }
        hosts.Sort(StringComparer.Ordinal);
        var result = hosts.Distinct(StringComparer.Ordinal).ToArray();
        if (ttl > TimeSpan.Zero)
        {
            _cache[location] = (now, result);
        }
        return result;
    }
}
