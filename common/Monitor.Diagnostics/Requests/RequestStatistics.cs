using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Monitor.Diagnostics.Requests;

/// <summary>
/// Per-instance request statistics (design: "请求统计"): for every HTTP route template and gRPC method, calls,
/// outcomes by status and a latency histogram, kept in a ring of per-minute buckets covering the last
/// <see cref="MaxWindowMinutes"/> minutes. Memory is bounded: at most <see cref="MaxRoutes"/> distinct routes
/// (later ones are counted under <see cref="OtherRoute"/>) and a fixed histogram per route and minute.
/// The same figures go to the <c>Monitor.Requests</c> meter (and so to <c>/metrics</c>).
/// </summary>
public sealed class RequestStatistics
{
    /// <summary>Meter name of the request instruments.</summary>
    public const string MeterName = "Monitor.Requests";

    /// <summary>Minutes the ring covers; the longest window a caller may ask for.</summary>
    public const int MaxWindowMinutes = 60;

    /// <summary>Distinct routes kept before further ones are folded into <see cref="OtherRoute"/>.</summary>
    public const int MaxRoutes = 512;

    /// <summary>The route under which calls beyond <see cref="MaxRoutes"/> are counted.</summary>
    public const string OtherRoute = "(other)";

    /// <summary>Upper bounds (inclusive, milliseconds) of the latency buckets; one more bucket holds everything slower.</summary>
    public static readonly double[] LatencyBoundsMs =
    [
        0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 50, 75, 100, 150, 200, 300, 500, 750,
        1_000, 1_500, 2_000, 3_000, 5_000, 7_500, 10_000, 20_000, 30_000, 60_000, 120_000,
    ];

    private readonly TimeProvider _timeProvider;
    private readonly MinuteSlot[] _ring = new MinuteSlot[MaxWindowMinutes + 1];
    private readonly ConcurrentDictionary<RouteKey, RouteKey> _routes = new();
    private readonly Counter<long> _calls;
    private readonly Histogram<double> _duration;

    /// <summary>Creates the store and its instruments.</summary>
    public RequestStatistics(TimeProvider timeProvider, IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _timeProvider = timeProvider;
        for (var i = 0; i < _ring.Length; i++)
        {
            _ring[i] = new MinuteSlot();
        }
        var meter = meterFactory.Create(MeterName);
        _calls = meter.CreateCounter<long>("monitor.requests", "{call}", "Calls per HTTP route or gRPC method, by status.");
        _duration = meter.CreateHistogram<double>("monitor.request.duration", "ms", "Latency per HTTP route or gRPC method.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBoundsMs });
    }

    /// <summary>Records one finished call.</summary>
    /// <param name="protocol"><c>http</c> or <c>grpc</c>.</param>
    /// <param name="route">Route template (<c>GET /api/v1/x/{id}</c>) or gRPC method (<c>/pkg.Service/Method</c>); never a raw path.</param>
    /// <param name="status">HTTP status code, or the gRPC status code.</param>
    /// <param name="elapsed">Duration of the call.</param>
    public void Record(string protocol, string route, int status, TimeSpan elapsed)
    {
        var key = Intern(new RouteKey(protocol, route));
        var ms = elapsed.TotalMilliseconds;
        var slot = CurrentSlot();
        slot.Get(key).Add(status, BucketOf(ms));
        var tags = new TagList { { "protocol", key.Protocol }, { "route", key.Route }, { "status", status } };
        _calls.Add(1, tags);
        _duration.Record(ms, tags);
    }

    /// <summary>Records a call that started at <paramref name="startTimestamp"/> (<see cref="TimeProvider.GetTimestamp"/>).</summary>
    public void Record(string protocol, string route, int status, long startTimestamp) =>
        Record(protocol, route, status, _timeProvider.GetElapsedTime(startTimestamp));

    /// <summary>The current timestamp of the store's clock (pass it back to <see cref="Record(string, string, int, long)"/>).</summary>
    public long GetTimestamp() => _timeProvider.GetTimestamp();

    /// <summary>The statistics over the last <paramref name="windowMinutes"/> minutes (the current minute included, clamped to 1..60).</summary>
    public RequestStatsSnapshot Snapshot(string kind, string instance, int windowMinutes)
    {
        windowMinutes = Math.Clamp(windowMinutes, 1, MaxWindowMinutes);
        var now = _timeProvider.GetUtcNow();
        var minute = now.ToUnixTimeSeconds() / 60;
        var from = DateTimeOffset.FromUnixTimeSeconds((minute - windowMinutes + 1) * 60);
        var merged = new Dictionary<RouteKey, RouteAccumulator>();
        for (var m = minute - windowMinutes + 1; m <= minute; m++)
        {
            var slot = _ring[(int)(m % _ring.Length)];
            if (slot.Minute != m)
            {
                continue;
            }
            foreach (var (key, counters) in slot.Routes)
            {
                if (!merged.TryGetValue(key, out var acc))
                {
                    merged[key] = acc = new RouteAccumulator();
                }
                counters.AddTo(acc);
            }
        }
        var seconds = Math.Max(1.0, (now - from).TotalSeconds);
        var routes = merged
            .Select(kv => kv.Value.ToStats(kv.Key.Protocol, kv.Key.Route, seconds))
            .OrderBy(r => r.Protocol, StringComparer.Ordinal).ThenBy(r => r.Route, StringComparer.Ordinal)
            .ToList();
        return new RequestStatsSnapshot(kind, instance, windowMinutes * 60, from, now, LatencyBoundsMs, routes);
    }

    internal static int BucketOf(double ms)
    {
        var index = Array.BinarySearch(LatencyBoundsMs, ms);
        return index >= 0 ? index : ~index;
    }

    /// <summary>
    /// The <paramref name="quantile"/> (0..1) of a histogram over <see cref="LatencyBoundsMs"/>, interpolated linearly
    /// inside its bucket; the overflow bucket reports its lower bound. Null when the histogram is empty.
    /// </summary>
    public static double? Percentile(IReadOnlyList<long> counts, double quantile)
    {
        ArgumentNullException.ThrowIfNull(counts);
        long total = 0;
        foreach (var c in counts)
        {
            total += c;
        }
        if (total == 0)
        {
            return null;
        }
        var rank = quantile * total;
        long seen = 0;
        for (var i = 0; i < counts.Count; i++)
        {
            if (counts[i] == 0)
            {
                continue;
            }
            if (seen + counts[i] >= rank)
            {
                var lower = i == 0 ? 0 : LatencyBoundsMs[Math.Min(i, LatencyBoundsMs.Length) - 1];
                if (i >= LatencyBoundsMs.Length)
                {
                    return lower;
                }
                var upper = LatencyBoundsMs[i];
                var fraction = Math.Clamp((rank - seen) / counts[i], 0, 1);
                return Math.Round(lower + ((upper - lower) * fraction), 3);
            }
            seen += counts[i];
        }
        return LatencyBoundsMs[^1];
    }

    private RouteKey Intern(RouteKey key)
    {
        if (_routes.TryGetValue(key, out var existing))
        {
            return existing;
        }
        if (_routes.Count >= MaxRoutes)
        {
            key = new RouteKey(key.Protocol, OtherRoute);
        }
        return _routes.GetOrAdd(key, key);
    }

    private MinuteSlot CurrentSlot()
    {
        var minute = _timeProvider.GetUtcNow().ToUnixTimeSeconds() / 60;
        var slot = _ring[(int)(minute % _ring.Length)];
        if (slot.Minute != minute)
        {
            slot.Reset(minute);
        }
        return slot;
    }

    private readonly record struct RouteKey(string Protocol, string Route);

    private sealed class MinuteSlot
    {
        private readonly Lock _lock = new();
        private long _minute = -1;

        public long Minute => Volatile.Read(ref _minute);

        public ConcurrentDictionary<RouteKey, RouteCounters> Routes { get; private set; } = new();

        public void Reset(long minute)
        {
            lock (_lock)
            {
                if (_minute != minute)
                {
                    Routes = new ConcurrentDictionary<RouteKey, RouteCounters>();
                    Volatile.Write(ref _minute, minute);
                }
            }
        }

        public RouteCounters Get(RouteKey key) =>
            Routes.TryGetValue(key, out var counters) ? counters : Routes.GetOrAdd(key, static _ => new RouteCounters());
    }

    private sealed class RouteCounters
    {
        private readonly long[] _latency = new long[LatencyBoundsMs.Length + 1];
        private readonly ConcurrentDictionary<int, StrongBox> _statuses = new();

        public void Add(int status, int bucket)
        {
            Interlocked.Increment(ref _latency[bucket]);
            var box = _statuses.TryGetValue(status, out var b) ? b : _statuses.GetOrAdd(status, static _ => new StrongBox());
            Interlocked.Increment(ref box.Value);
        }

        public void AddTo(RouteAccumulator acc)
        {
            for (var i = 0; i < _latency.Length; i++)
            {
                acc.Latency[i] += Volatile.Read(ref _latency[i]);
            }
            foreach (var (status, box) in _statuses)
            {
                acc.Statuses[status] = acc.Statuses.GetValueOrDefault(status) + Volatile.Read(ref box.Value);
            }
        }
    }

    private sealed class StrongBox
    {
        public long Value;
    }

    private sealed class RouteAccumulator
    {
        public long[] Latency { get; } = new long[LatencyBoundsMs.Length + 1];

        public Dictionary<int, long> Statuses { get; } = [];

        public RouteStats ToStats(string protocol, string route, double seconds) =>
            RouteStats.Create(protocol, route, Statuses, Latency, seconds);
    }
}
