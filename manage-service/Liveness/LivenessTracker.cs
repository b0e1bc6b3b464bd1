using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Options;
using Monitor.Influx;
using Monitor.ManageService.Extensions;
using Monitor.ManageService.Hosts;
using Monitor.ManageService.Options;

namespace Monitor.ManageService.Liveness;

/// <summary>
/// Last-seen time of every host that sends data, read from InfluxDB directly. The first read looks back
/// <c>Manage:Liveness:LookBack</c>; every later read only covers the time since the previous successful read plus the
/// window, so at 1,000 hosts a refresh touches a few points per host and series (one
/// <c>SELECT last("value") ... GROUP BY "host_id"</c> over the agents' <c>cpu_rate</c>/<c>mem_rate</c>), never the history.
/// </summary>
internal sealed partial class LivenessTracker(
    IServiceScopeFactory scopes,
    TimeProvider timeProvider,
    IOptions<ManageOptions> options,
    ManageMetrics metrics,
    ILogger<LivenessTracker> logger) : IDisposable
{
    private readonly LivenessOptions _options = options.Value.Liveness;
    private readonly ConcurrentDictionary<string, DateTimeOffset> _lastSeen = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _refreshing = new(1, 1);
    private DateTimeOffset? _lastQueryStart;
    private DateTimeOffset? _lastRefreshed;

    public TimeSpan Window => _options.Window;

    /// <summary>When the last successful read finished; null before the first.</summary>
    public DateTimeOffset? LastRefreshed => _lastRefreshed;

    public IReadOnlyDictionary<string, DateTimeOffset> LastSeen => _lastSeen;

    /// <summary>Refreshes when the data is older than the refresh interval; fails only when no recent data is at hand.</summary>
    public async Task EnsureFreshAsync(CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        if (_lastRefreshed is { } last && now - last < _options.RefreshInterval)
        {
            return;
        }
        try
        {
            await RefreshAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (InfluxQueryException ex)
        {
            if (_lastRefreshed is { } ok && now - ok < _options.RefreshInterval * 3)
            {
                return;
            }
            throw new ManageException(ManageErrorKind.Unavailable, $"reading host liveness from InfluxDB failed: {ex.Message}", innerException: ex);
        }
    }

    /// <summary>Reads last-seen times from InfluxDB and merges them in (a host's last-seen time only moves forward).</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await _refreshing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var started = timeProvider.GetUtcNow();
            if (_lastRefreshed is { } last && started - last < _options.RefreshInterval / 2)
            {
                return; // another caller refreshed while this one waited
            }
            var since = (_lastQueryStart ?? started - _options.LookBack) - _options.Window;
            var query = BuildQuery(_options.Measurements, since);
            var clock = Stopwatch.GetTimestamp();
            InfluxQueryResult result;
            await using (var scope = scopes.CreateAsyncScope())
            {
                try
                {
                    result = await scope.ServiceProvider.GetRequiredService<InfluxQueryClient>().QueryAsync(query, cancellationToken).ConfigureAwait(false);
                }
                catch (InfluxQueryException ex)
                {
                    metrics.LivenessRefreshed(Stopwatch.GetElapsedTime(clock), ok: false, 0);
                    Log.RefreshFailed(logger, ex);
                    throw;
                }
            }
            var seen = Merge(_lastSeen, result);
            _lastQueryStart = started;
            _lastRefreshed = timeProvider.GetUtcNow();
            var windowStart = started - _options.Window;
            metrics.LivenessRefreshed(Stopwatch.GetElapsedTime(clock), ok: true, _lastSeen.Values.Count(t => t > windowStart));
            var elapsedMs = Stopwatch.GetElapsedTime(clock).TotalMilliseconds;
            Log.Refreshed(logger, seen, elapsedMs);
        }
        finally
        {
            _refreshing.Release();
        }
    }

    public void Dispose() => _refreshing.Dispose();

    internal static string BuildQuery(IEnumerable<string> measurements, DateTimeOffset since)
    {
        var from = new StringBuilder();
        foreach (var m in measurements)
        {
            if (from.Length > 0)
            {
                from.Append(',');
            }
            from.Append(InfluxQl.QuoteIdentifier(InfluxQl.ValidateMetricName(m)));
        }
        return $"SELECT last(\"value\") FROM {from} WHERE time > {InfluxQl.TimeLiteral(since)} GROUP BY \"host_id\"";
    }

    /// <summary>Merges the newest time per host of every series; returns how many series were read.</summary>
    internal static int Merge(ConcurrentDictionary<string, DateTimeOffset> lastSeen, InfluxQueryResult result)
    {
        var count = 0;
        foreach (var series in result.Series)
        {
            if (!series.Tags.TryGetValue("host_id", out var hostId) || string.IsNullOrEmpty(hostId))
            {
                continue;
            }
            var time = series.GetColumnIndex("time");
            for (var row = 0; row < series.RowCount && time >= 0; row++)
            {
                if (series.GetInt64(row, time) is not { } ms)
                {
                    continue;
                }
                var at = DateTimeOffset.FromUnixTimeMilliseconds(ms);
                lastSeen.AddOrUpdate(hostId, at, (_, old) => at > old ? at : old);
                count++;
            }
        }
        return count;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6030, EventName = "LivenessRefreshed", Level = LogLevel.Debug, Message = "Read {Series} last-seen series from InfluxDB in {ElapsedMs:F0} ms")]
        public static partial void Refreshed(ILogger logger, int series, double elapsedMs);

        [LoggerMessage(EventId = 6031, EventName = "LivenessRefreshFailed", Level = LogLevel.Warning, Message = "Reading last-seen times from InfluxDB failed")]
        public static partial void RefreshFailed(ILogger logger, Exception exception);
    }
}

/// <summary>Keeps the last-seen times warm so that liveness requests rarely wait for InfluxDB.</summary>
internal sealed partial class LivenessRefresher(LivenessTracker tracker, TimeProvider timeProvider, IOptions<ManageOptions> options) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.Liveness.RefreshInterval;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await tracker.RefreshAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (InfluxQueryException)
            {
                // Logged by the tracker; the next round retries.
            }
            try
            {
                await Task.Delay(interval, timeProvider, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }
}
