using System.Net.Http.Headers;
using Monitor.Diagnostics.Requests;
using Monitor.ManageService.Registry;

namespace Monitor.ManageService.Stats;

/// <summary>One instance asked for its statistics, and how that went.</summary>
internal sealed record InstancePoll(string Kind, string Instance, string? HttpUrl, bool Ok, string? Error);

/// <summary>One row of the fleet-wide table: a route or method of one service kind, over all its live instances.</summary>
internal sealed record AggregatedRouteStats(
    string Kind,
    string Protocol,
    string Route,
    int Instances,
    long Calls,
    long Errors,
    double CallsPerSecond,
    double ErrorRate,
    double? P50Ms,
    double? P99Ms,
    IReadOnlyDictionary<string, long> Statuses);

/// <summary>JSON of <c>GET /api/v1/manage/stats/requests</c>.</summary>
internal sealed record AggregatedRequestStats(int WindowSeconds, DateTimeOffset GeneratedAt, IReadOnlyList<InstancePoll> Instances, IReadOnlyList<AggregatedRouteStats> Routes);

/// <summary>
/// Asks every live instance in the etcd registry for its request statistics (<c>GET {http}/api/v1/{kind}/instance/stats/requests</c>,
/// in parallel, a few seconds each, forwarding the caller's credentials) and merges them per kind and route: calls,
/// errors and statuses add up, calls/s is the sum of the instances' rates, p50/p99 come from the merged histograms.
/// An instance that does not answer is listed with its error and left out of the table.
/// </summary>
internal sealed class RequestStatsAggregator(ServiceRegistryView registry, IHttpClientFactory httpClientFactory, TimeProvider timeProvider)
{
    public const string HttpClientName = "monitor-stats";

    public async Task<AggregatedRequestStats> AggregateAsync(int windowMinutes, string? authorization, string? cookie, CancellationToken cancellationToken)
    {
        var instances = registry.List(null).Where(i => i.LeaseAlive).ToList();
        var polls = await Task.WhenAll(instances.Select(i => PollAsync(i, windowMinutes, authorization, cookie, cancellationToken))).ConfigureAwait(false);
        var rows = new Dictionary<(string Kind, string Protocol, string Route), Accumulator>();
        foreach (var (_, snapshot) in polls)
        {
            if (snapshot is null)
            {
                continue;
            }
            foreach (var route in snapshot.Routes)
            {
                var key = (snapshot.Kind, route.Protocol, route.Route);
                if (!rows.TryGetValue(key, out var acc))
                {
                    rows[key] = acc = new Accumulator(route.LatencyCounts.Count);
                }
                acc.Add(route);
            }
        }
        var table = rows
            .Select(kv => kv.Value.ToRow(kv.Key.Kind, kv.Key.Protocol, kv.Key.Route, windowMinutes * 60))
            .OrderBy(r => r.Kind, StringComparer.Ordinal).ThenBy(r => r.Protocol, StringComparer.Ordinal).ThenBy(r => r.Route, StringComparer.Ordinal)
            .ToList();
        return new AggregatedRequestStats(windowMinutes * 60, timeProvider.GetUtcNow(), polls.Select(p => p.Poll).ToList(), table);
    }

    private async Task<(InstancePoll Poll, RequestStatsSnapshot? Snapshot)> PollAsync(
        ServiceInstanceInfo instance, int windowMinutes, string? authorization, string? cookie, CancellationToken cancellationToken)
    {
        if (BaseUrl(instance.HttpUrl) is not { } baseUrl)
        {
            return (new InstancePoll(instance.Kind, instance.InstanceId, instance.HttpUrl, false, "no usable HTTP address in the registry"), null);
        }
        try
        {
            using var client = httpClientFactory.CreateClient(HttpClientName);
            using var request = new HttpRequestMessage(HttpMethod.Get,
                $"{baseUrl}{RequestStatisticsEndpoints.PathFor(instance.Kind)}?window={windowMinutes}m");
            if (!string.IsNullOrEmpty(authorization) && AuthenticationHeaderValue.TryParse(authorization, out var auth))
            {
                request.Headers.Authorization = auth;
            }
            if (!string.IsNullOrEmpty(cookie))
            {
                request.Headers.TryAddWithoutValidation("Cookie", cookie);
            }
            using var response = await client.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return (new InstancePoll(instance.Kind, instance.InstanceId, instance.HttpUrl, false, $"HTTP {(int)response.StatusCode}"), null);
            }
            var snapshot = await response.Content.ReadFromJsonAsync(RequestStatsJsonContext.Default.RequestStatsSnapshot, cancellationToken).ConfigureAwait(false);
            return snapshot is null
                ? (new InstancePoll(instance.Kind, instance.InstanceId, instance.HttpUrl, false, "empty answer"), null)
                : (new InstancePoll(instance.Kind, instance.InstanceId, instance.HttpUrl, true, null), snapshot with { Kind = instance.Kind });
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            return (new InstancePoll(instance.Kind, instance.InstanceId, instance.HttpUrl, false, ex is TaskCanceledException ? "timed out" : ex.GetType().Name), null);
        }
    }

    /// <summary>The registered HTTP URL, with a wildcard bind address replaced by loopback; null when unusable.</summary>
    internal static string? BaseUrl(string? httpUrl)
    {
        if (string.IsNullOrEmpty(httpUrl))
        {
            return null;
        }
        var fixedUp = httpUrl.Replace("://*:", "://127.0.0.1:", StringComparison.Ordinal)
            .Replace("://+:", "://127.0.0.1:", StringComparison.Ordinal)
            .Replace("://0.0.0.0:", "://127.0.0.1:", StringComparison.Ordinal);
        return Uri.TryCreate(fixedUp, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? uri.GetLeftPart(UriPartial.Authority)
            : null;
    }

    private sealed class Accumulator(int buckets)
    {
        private readonly long[] _latency = new long[buckets];
        private readonly Dictionary<int, long> _statuses = [];
        private int _instances;
        private double _callsPerSecond;

        public void Add(RouteStats route)
        {
            _instances++;
            _callsPerSecond += route.CallsPerSecond;
            for (var i = 0; i < _latency.Length && i < route.LatencyCounts.Count; i++)
            {
                _latency[i] += route.LatencyCounts[i];
            }
            foreach (var (status, count) in route.Statuses)
            {
                if (int.TryParse(status, System.Globalization.CultureInfo.InvariantCulture, out var code))
                {
                    _statuses[code] = _statuses.GetValueOrDefault(code) + count;
                }
            }
        }

        public AggregatedRouteStats ToRow(string kind, string protocol, string route, int windowSeconds)
        {
            var merged = RouteStats.Create(protocol, route, _statuses, _latency, windowSeconds);
            return new AggregatedRouteStats(kind, protocol, route, _instances, merged.Calls, merged.Errors, Math.Round(_callsPerSecond, 4),
                merged.ErrorRate, merged.P50Ms, merged.P99Ms, merged.Statuses);
        }
    }
}
