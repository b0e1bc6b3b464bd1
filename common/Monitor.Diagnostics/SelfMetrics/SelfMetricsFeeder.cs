using System.Collections.Concurrent;
using System.Text;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Monitor.Protos.V1;

namespace Monitor.Diagnostics.SelfMetrics;

/// <summary>
/// Every <see cref="SelfMetricsOptions.Interval"/>: takes the service's figures (<see cref="SelfMetricsCollector.Tick"/>)
/// and sends them as one <see cref="SampleBatch"/> of the pseudo-host <c>monitor.{kind}.{instance}</c> to a report
/// service over the ordinary <c>ReportService/Report</c> stream, so warning evaluates them from Kafka even when
/// InfluxDB is down. Best effort: a batch that finds no report instance or gets no ack within 10 s is dropped (logged).
/// </summary>
public sealed partial class SelfMetricsFeeder(
    SelfMetricsCollector collector,
    IOptions<SelfMetricsOptions> options,
    IEnumerable<IReportTargets> discovered,
    TimeProvider timeProvider,
    ILogger<SelfMetricsFeeder> logger) : BackgroundService
{
    private readonly ConcurrentDictionary<string, GrpcChannel> _channels = new(StringComparer.Ordinal);
    private ulong _sequence = (ulong)timeProvider.GetUtcNow().ToUnixTimeMilliseconds() * 1000;
    private int _next;
    private bool _warnedNoTarget;
    private bool _failing;

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        if (!o.Enabled)
        {
            Log.Disabled(logger);
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(o.Interval, timeProvider, stoppingToken).ConfigureAwait(false);
                var snapshot = collector.Tick(o.Kind, o.Instance);
                if (o.Enabled && snapshot.Figures.Count > 0)
                {
                    await SendAsync(snapshot, stoppingToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is RpcException or HttpRequestException or IOException or InvalidOperationException or OperationCanceledException)
            {
                // Once per failure streak at Warning (e.g. access control on and no SelfMetrics:Token), then at Debug.
                if (_failing)
                {
                    Log.SendStillFailing(logger, ex.Message);
                }
                else
                {
                    _failing = true;
                    Log.SendFailed(logger, ex.Message);
                }
            }
#pragma warning disable CA1031 // Best effort: a fault in the feed of the service's own figures must not stop the service.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.TickFailed(logger, ex);
            }
        }
    }

    /// <summary>Builds the batch of one snapshot (timestamps = the tick, labels sanitised to the report service's rules).</summary>
    public static SampleBatch ToBatch(SelfFiguresSnapshot snapshot, ulong sequence)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var at = snapshot.At.ToUnixTimeMilliseconds();
        var batch = new SampleBatch { HostId = snapshot.HostId, Sequence = sequence, SentAtUnixMs = at, AgentVersion = "monitor-self" };
        foreach (var f in snapshot.Figures)
        {
            var sample = new Sample { Metric = f.Metric, Value = f.Value, TimestampUnixMs = at };
            foreach (var (k, v) in f.Labels.Take(16))
            {
                sample.Labels[LabelKey(k)] = v.Length > 256 ? v[..256] : v;
            }
            batch.Samples.Add(sample);
        }
        return batch;
    }

    internal static string LabelKey(string key)
    {
        if (key == "host_id")
        {
            return "host";
        }
        var sb = new StringBuilder(Math.Min(key.Length, 64));
        foreach (var c in key.AsSpan(0, Math.Min(key.Length, 64)))
        {
            sb.Append(char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_');
        }
        if (sb.Length == 0 || char.IsAsciiDigit(sb[0]))
        {
            sb.Insert(0, '_');
        }
        return sb.ToString();
    }

    private async Task SendAsync(SelfFiguresSnapshot snapshot, CancellationToken cancellationToken)
    {
        var o = options.Value;
        IReadOnlyList<string> targets = o.ReportAddresses.Where(a => !string.IsNullOrWhiteSpace(a)).ToList();
        if (targets.Count == 0)
        {
            foreach (var source in discovered)
            {
                targets = await source.GetAsync(cancellationToken).ConfigureAwait(false);
                if (targets.Count > 0)
                {
                    break;
                }
            }
        }
        if (targets.Count == 0)
        {
            if (!_warnedNoTarget)
            {
                _warnedNoTarget = true;
                Log.NoTarget(logger);
            }
            return;
        }
        var address = targets[(int)((uint)Interlocked.Increment(ref _next) % targets.Count)];
        var channel = _channels.GetOrAdd(address, a => GrpcChannel.ForAddress(a));
        var headers = new Metadata();
        if (!string.IsNullOrEmpty(o.Token))
        {
            headers.Add("authorization", "Bearer " + o.Token);
        }
        var batch = ToBatch(snapshot, ++_sequence);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        using var call = new ReportService.ReportServiceClient(channel).Report(headers, cancellationToken: timeout.Token);
        await call.RequestStream.WriteAsync(batch, timeout.Token).ConfigureAwait(false);
        await call.RequestStream.CompleteAsync().ConfigureAwait(false);
        if (await call.ResponseStream.MoveNext(timeout.Token).ConfigureAwait(false))
        {
            var ack = call.ResponseStream.Current;
            if (ack.Rejections.Count > 0)
            {
                Log.Rejected(logger, ack.Rejections.Count, ack.Rejections[0].Reason, ack.Rejections[0].Detail);
            }
            _warnedNoTarget = false;
            _failing = false;
        }
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        foreach (var channel in _channels.Values)
        {
            channel.Dispose();
        }
        base.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 9010, EventName = "SelfMetricsDisabled", Level = LogLevel.Information,
            Message = "SelfMetrics:Enabled is false: this instance's pipeline figures are served on its HTTP port but not fed into the pipeline")]
        public static partial void Disabled(ILogger logger);

        [LoggerMessage(EventId = 9011, EventName = "SelfMetricsNoTarget", Level = LogLevel.Information,
            Message = "No report service found (SelfMetrics:ReportAddresses empty, none registered in etcd): self-metrics are not fed until one appears")]
        public static partial void NoTarget(ILogger logger);

        [LoggerMessage(EventId = 9012, EventName = "SelfMetricsSendFailed", Level = LogLevel.Warning, Message = "Self-metrics batch not delivered: {Error} (logged again at Debug until one is delivered)")]
        public static partial void SendFailed(ILogger logger, string error);

        [LoggerMessage(EventId = 9014, EventName = "SelfMetricsStillFailing", Level = LogLevel.Debug, Message = "Self-metrics batch not delivered (still): {Error}")]
        public static partial void SendStillFailing(ILogger logger, string error);

        [LoggerMessage(EventId = 9015, EventName = "SelfMetricsTickFailed", Level = LogLevel.Error,
            Message = "Taking or sending this instance's self-metrics failed; the service goes on and the next tick tries again")]
        public static partial void TickFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 9013, EventName = "SelfMetricsRejected", Level = LogLevel.Warning,
            Message = "The report service rejected {Count} self-metric samples (first: {Reason}: {Detail})")]
        public static partial void Rejected(ILogger logger, int count, string reason, string detail);
    }
}
