using System.Globalization;
using System.Text;

namespace Monitor.LoadGen;

/// <summary>
/// End-to-end latency, sample timestamp → queryable in InfluxDB, for a subset of hosts: every sent batch of a probe
/// host is remembered by its timestamp, and InfluxDB is polled for the newest <c>cpu_rate</c> point of each probe
/// host; a batch counts as visible at the moment a poll answer shows that host's newest point at or after its
/// timestamp (a host's points are written in order: one host is one Kafka partition).
/// </summary>
internal sealed class LatencyProbe
{
    private readonly Dictionary<int, Queue<long>> _pending = [];
    private readonly List<double> _latenciesMs = [];
    private readonly string _query;
    private long _queries;
    private double _queryMsTotal;

    public LatencyProbe(int hosts, int probes)
    {
        var step = Math.Max(1, hosts / Math.Max(1, probes));
        var filter = new StringBuilder();
        for (int i = 0; i < hosts; i += step)
        {
            _pending[i] = new Queue<long>();
            filter.Append(filter.Length == 0 ? "" : " OR ").Append(CultureInfo.InvariantCulture, $"\"host_id\" = '{AgentFleet.HostId(i)}'");
        }
        _query = $"SELECT last(\"value\") FROM \"cpu_rate\" WHERE time > now() - 2m AND ({filter}) GROUP BY \"host_id\"";
    }

    /// <summary>Only batches sent while this is true are timed (the warm-up is excluded).</summary>
    public volatile bool Recording;

    public int ProbeHosts => _pending.Count;

    public double MeanQueryMs => _queries == 0 ? 0 : _queryMsTotal / _queries;

    public void OnSent(int hostIndex, long timestampUnixMs)
    {
        if (!Recording || !_pending.TryGetValue(hostIndex, out var queue))
        {
            return;
        }
        lock (queue)
        {
            queue.Enqueue(timestampUnixMs);
        }
    }

    public int PendingCount => _pending.Values.Sum(q => { lock (q) { return q.Count; } });

    public double[] Latencies()
    {
        lock (_latenciesMs)
        {
            return [.. _latenciesMs];
        }
    }

    /// <summary>Polls until <paramref name="stop"/>; then keeps polling until nothing is pending or <paramref name="drainTimeout"/> passed.</summary>
    public async Task RunAsync(InfluxAdmin influx, string database, TimeSpan interval, TimeSpan drainTimeout, CancellationToken stop)
    {
        var drainDeadline = (DateTimeOffset?)null;
        while (true)
        {
            if (stop.IsCancellationRequested)
            {
                drainDeadline ??= TimeProvider.System.GetUtcNow() + drainTimeout;
                if (PendingCount == 0 || TimeProvider.System.GetUtcNow() > drainDeadline)
                {
                    return;
                }
            }
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            System.Text.Json.JsonElement root;
            try
            {
                root = await influx.QueryAsync(database, _query, CancellationToken.None);
            }
            catch (Exception ex) when (ex is HttpRequestException or InvalidOperationException or TaskCanceledException)
            {
                await Task.Delay(interval, CancellationToken.None);
                continue;
            }
            var observed = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
            _queries++;
            _queryMsTotal += System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            foreach (var result in root.GetProperty("results").EnumerateArray())
            {
                if (!result.TryGetProperty("series", out var series))
                {
                    continue;
                }
                foreach (var s in series.EnumerateArray())
                {
                    var host = s.GetProperty("tags").GetProperty("host_id").GetString()!;
                    var last = s.GetProperty("values")[0][0].GetInt64();
                    var index = int.Parse(host.AsSpan("load-".Length), CultureInfo.InvariantCulture);
                    if (!_pending.TryGetValue(index, out var queue))
                    {
                        continue;
                    }
                    lock (queue)
                    {
                        while (queue.Count > 0 && queue.Peek() <= last)
                        {
                            var ts = queue.Dequeue();
                            lock (_latenciesMs)
                            {
                                _latenciesMs.Add(observed - ts);
                            }
                        }
                    }
                }
            }
            await Task.Delay(interval, CancellationToken.None);
        }
    }
}

internal static class Stats
{
    public static double Percentile(double[] values, double p)
    {
        if (values.Length == 0)
        {
            return double.NaN;
        }
        var sorted = values.Order().ToArray();
        var rank = (int)Math.Ceiling(p / 100 * sorted.Length) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
    }

    public static string N(double value) => value.ToString("N0", CultureInfo.InvariantCulture);

    public static string F(double value, int decimals = 2) => value.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
}
