using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Monitor.Diagnostics.Requests;

namespace Monitor.Diagnostics.SelfMetrics;

/// <summary>One figure of the service's own pipeline metrics at the latest tick.</summary>
/// <param name="Metric">Sample metric name: the instrument name with <c>.</c> and <c>-</c> as <c>_</c> (<c>monitor_persistence_write_failures</c>); histograms add <c>_count</c> and <c>_avg</c>.</param>
/// <param name="Type"><c>counter</c>, <c>gauge</c>, <c>histogram_count</c> or <c>histogram_avg</c>.</param>
/// <param name="Labels">The instrument's tags.</param>
/// <param name="Value">Counters: the increase over the last interval; gauges: the value; histogram count: calls in the interval; average: the interval's mean.</param>
/// <param name="Total">Counters and histogram counts: the total since the process started; otherwise the value again.</param>
public sealed record SelfFigure(string Metric, string Type, IReadOnlyDictionary<string, string> Labels, double Value, double Total);

/// <summary>JSON of <c>GET /api/v1/{kind}/instance/stats/pipeline</c>: the figures of the latest tick.</summary>
/// <param name="Kind">Service kind.</param>
/// <param name="Instance">Instance id.</param>
/// <param name="HostId">The pseudo-host the figures are reported as: <c>monitor.{kind}.{instance}</c>.</param>
/// <param name="At">Time of the tick (UTC).</param>
/// <param name="IntervalSeconds">Seconds since the previous tick (what counter increases are over).</param>
/// <param name="Figures">The figures.</param>
public sealed record SelfFiguresSnapshot(string Kind, string Instance, string HostId, DateTimeOffset At, double IntervalSeconds, IReadOnlyList<SelfFigure> Figures);

/// <summary>
/// Reads the service's own <c>Monitor.*</c> meters (not the per-route <see cref="RequestStatistics.MeterName"/>) with a
/// <see cref="MeterListener"/>: counters and up-down counters are summed, observable instruments are read at each
/// <see cref="Tick"/>, histograms keep count and sum. Each tick turns them into <see cref="SelfFigure"/>s (counter
/// increases since the previous tick), which <see cref="SelfMetricsFeeder"/> sends as samples of the pseudo-host
/// <c>monitor.{kind}.{instance}</c> and the per-instance pipeline view serves, together with the runtime figures of
/// <see cref="RuntimeFigures"/> (CPU, working set, uptime, GC, thread pool, lock contention, exceptions; the agents report
/// the same ones), so every instance reports something even before its own meters were first used. Series are bounded by <see cref="MaxSeries"/>.
/// </summary>
public sealed class SelfMetricsCollector : IDisposable
{
    /// <summary>Most series kept; further ones are ignored.</summary>
    public const int MaxSeries = 2000;

    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<SeriesKey, Series> _series = new();
    private readonly TimeProvider _timeProvider;
    private readonly Lock _tickLock = new();
    private readonly RuntimeFigures _runtime;
    private DateTimeOffset _lastTick;
    private SelfFiguresSnapshot? _latest;

    /// <summary>Starts listening.</summary>
    public SelfMetricsCollector(TimeProvider timeProvider)
    {
        _timeProvider = timeProvider;
        _lastTick = timeProvider.GetUtcNow();
        _runtime = new RuntimeFigures(timeProvider);
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            var meter = instrument.Meter.Name;
            if (meter.StartsWith("Monitor.", StringComparison.Ordinal) && meter != RequestStatistics.MeterName)
            {
                listener.EnableMeasurementEvents(instrument, new InstrumentState(MetricName(instrument.Name)));
            }
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, state) => OnMeasurement(i, (InstrumentState)state!, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, state) => OnMeasurement(i, (InstrumentState)state!, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, state) => OnMeasurement(i, (InstrumentState)state!, v, tags));
        _listener.SetMeasurementEventCallback<float>((i, v, tags, state) => OnMeasurement(i, (InstrumentState)state!, v, tags));
        _listener.Start();
    }

    /// <summary>The figures of the latest tick, or null before the first.</summary>
    public SelfFiguresSnapshot? Latest => Volatile.Read(ref _latest);

    /// <summary>Reads the observable instruments and turns everything into figures (counter increases since the previous tick).</summary>
    public SelfFiguresSnapshot Tick(string kind, string instance)
    {
        lock (_tickLock)
        {
            foreach (var s in _series.Values)
            {
                if (s.Observable)
                {
                    s.Seen = false;
                }
            }
            _listener.RecordObservableInstruments();
            var now = _timeProvider.GetUtcNow();
            var interval = Math.Max(0.001, (now - _lastTick).TotalSeconds);
            _lastTick = now;
            var figures = new List<SelfFigure>();
            // ToArray: ConcurrentDictionary's own snapshot. Sorting the live dictionary copies it through ICollection's
            // Count + CopyTo, which throws when a series is added in between (a report service under load did).
            foreach (var (key, s) in _series.ToArray().OrderBy(kv => kv.Key.Metric, StringComparer.Ordinal).ThenBy(kv => kv.Key.Tags, StringComparer.Ordinal))
            {
                s.AppendFigures(key, figures);
            }
            AddProcessFigures(figures);
            // A labelled gauge (e.g. lag per partition) also gets its sum, so one rule can watch the whole.
            figures.AddRange(figures.Where(f => f.Type == "gauge" && f.Labels.Count > 0).GroupBy(f => f.Metric, StringComparer.Ordinal).Select(g =>
            {
                var sum = g.Sum(f => f.Value);
                return new SelfFigure(g.Key + "_sum", "gauge", new Dictionary<string, string>(), sum, sum);
            }).ToList());
            var snapshot = new SelfFiguresSnapshot(kind, instance, PseudoHostId(kind, instance), now, Math.Round(interval, 3), figures);
            Volatile.Write(ref _latest, snapshot);
            return snapshot;
        }
    }

    private void AddProcessFigures(List<SelfFigure> figures)
    {
        var none = new Dictionary<string, string>();
        foreach (var f in _runtime.Read())
        {
            var labels = f.LabelKey is null ? none : new Dictionary<string, string> { [f.LabelKey] = f.LabelValue ?? "" };
            figures.Add(new SelfFigure(f.Metric, f.IsCounter ? "counter" : "gauge", labels, f.Value, f.Total));
        }
    }

    /// <summary>The pseudo-host of a service instance: <c>monitor.{kind}.{instance}</c>.</summary>
    public static string PseudoHostId(string kind, string instance) => $"monitor.{kind}.{instance}";

    /// <summary>An instrument name as a sample metric name (<c>[a-z][a-z0-9_]*</c>).</summary>
    public static string MetricName(string instrument)
    {
        var sb = new StringBuilder(instrument.Length);
        foreach (var c in instrument)
        {
            sb.Append(c is >= 'a' and <= 'z' or >= '0' and <= '9' ? c : c is >= 'A' and <= 'Z' ? char.ToLowerInvariant(c) : '_');
        }
        if (sb.Length == 0 || sb[0] is < 'a' or > 'z')
        {
            sb.Insert(0, 'm');
        }
        return sb.ToString();
    }

    /// <inheritdoc />
    public void Dispose() => _listener.Dispose();

    // Runs on every Add/Record of every Monitor.* instrument (several per batch on the report service's hot path): an
    // untagged measurement goes straight to the instrument's one series, kept in its listener state.
    private void OnMeasurement(Instrument instrument, InstrumentState state, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.IsEmpty && state.Untagged is { } untagged)
        {
            untagged.Record(value);
            return;
        }
        var labels = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, o) in tags)
        {
            if (o is not null)
            {
                labels[k] = Convert.ToString(o, System.Globalization.CultureInfo.InvariantCulture) ?? "";
            }
        }
        var key = new SeriesKey(state.Metric, string.Join(',', labels.Select(l => $"{l.Key}={l.Value}")));
        if (!_series.TryGetValue(key, out var series))
        {
            if (_series.Count >= MaxSeries)
            {
                return;
            }
            series = _series.GetOrAdd(key, _ => new Series(instrument, labels));
        }
        if (labels.Count == 0)
        {
            state.Untagged = series;
        }
        series.Record(value);
    }

    /// <summary>Per-instrument listener state: the metric name, computed once, and the series of its untagged measurements.</summary>
    private sealed class InstrumentState(string metric)
    {
        public string Metric { get; } = metric;

        public Series? Untagged { get; set; }
    }

    private readonly record struct SeriesKey(string Metric, string Tags);

    private sealed class Series(Instrument instrument, IReadOnlyDictionary<string, string> labels)
    {
        private readonly Lock _lock = new();
        private readonly SeriesType _type = instrument switch
        {
            Counter<long> or Counter<int> or Counter<double> or Counter<float> => SeriesType.Counter,
            UpDownCounter<long> or UpDownCounter<int> or UpDownCounter<double> or UpDownCounter<float> => SeriesType.Sum,
            ObservableCounter<long> or ObservableCounter<int> or ObservableCounter<double> or ObservableCounter<float> => SeriesType.ObservedTotal,
            Histogram<long> or Histogram<int> or Histogram<double> or Histogram<float> => SeriesType.Histogram,
            _ => SeriesType.Gauge,
        };
        private double _value, _sum, _count, _lastTotal, _lastSum, _lastCount;

        public bool Observable { get; } = instrument.IsObservable;

        public bool Seen { get; set; } = true;

        public void Record(double v)
        {
            lock (_lock)
            {
                Seen = true;
                switch (_type)
                {
                    case SeriesType.Counter or SeriesType.Sum:
                        _value += v;
                        break;
                    case SeriesType.Histogram:
                        _count++;
                        _sum += v;
                        break;
                    default:
                        _value = v;
                        break;
                }
            }
        }

        public void AppendFigures(SeriesKey key, List<SelfFigure> figures)
        {
            lock (_lock)
            {
                if (Observable && !Seen)
                {
                    // An observable series that was not reported this time (e.g. a partition no longer assigned).
                    return;
                }
                switch (_type)
                {
                    case SeriesType.Counter or SeriesType.ObservedTotal:
                        figures.Add(new SelfFigure(key.Metric, "counter", labels, _value - _lastTotal, _value));
                        _lastTotal = _value;
                        break;
                    case SeriesType.Histogram:
                        var count = _count - _lastCount;
                        figures.Add(new SelfFigure(key.Metric + "_count", "histogram_count", labels, count, _count));
                        if (count > 0)
                        {
                            var avg = Math.Round((_sum - _lastSum) / count, 3);
                            figures.Add(new SelfFigure(key.Metric + "_avg", "histogram_avg", labels, avg, avg));
                        }
                        _lastCount = _count;
                        _lastSum = _sum;
                        break;
                    default:
                        figures.Add(new SelfFigure(key.Metric, "gauge", labels, _value, _value));
                        break;
                }
            }
        }
    }

    private enum SeriesType
    {
        Counter,
        Sum,
        ObservedTotal,
        Histogram,
        Gauge,
    }
}

/// <summary>Source-generated JSON metadata (camelCase) of the pipeline figures, shared with manage's health summary.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(SelfFiguresSnapshot))]
public sealed partial class SelfFiguresJsonContext : JsonSerializerContext;
