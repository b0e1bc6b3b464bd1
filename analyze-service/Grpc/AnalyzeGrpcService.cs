using System.Diagnostics.CodeAnalysis;
using Grpc.Core;
using Monitor.AnalyzeService.Query;
using Monitor.Protos.V1;
using Monitor.ServiceDefaults.Auth;
using HostValue = Monitor.AnalyzeService.Query.HostValue;
using LabelValues = Monitor.AnalyzeService.Query.LabelValues;
using RollupPoint = Monitor.AnalyzeService.Query.RollupPoint;

namespace Monitor.AnalyzeService.Grpc;

/// <summary>The analyze operations over gRPC (<c>monitor.v1.AnalyzeService</c>).</summary>
[RequireRole(MonitorRole.Viewer)]
internal sealed class AnalyzeGrpcService(AnalyzeQueryService queries) : Protos.V1.AnalyzeService.AnalyzeServiceBase
{
    public override Task<GetHostSeriesResponse> GetHostSeries(GetHostSeriesRequest request, ServerCallContext context) =>
        RunAsync(async () =>
        {
            var result = await queries.HostSeriesAsync("host_series", request.HostId, Range(request.Metric, request.Range, request.StepMs, request.Function, request.Labels), splitByLabels: true, context.CancellationToken).ConfigureAwait(false);
            var response = new GetHostSeriesResponse { Resolution = result.Resolution.Name(), StepMs = StepMs(result.Step), Truncated = result.Truncated };
            response.Series.AddRange(result.Series.Select(ToProto));
            return response;
        });

    public override Task<GetLocationSeriesResponse> GetLocationSeries(GetLocationSeriesRequest request, ServerCallContext context) =>
        RunAsync(async () =>
        {
            if (request.StepMs <= 0)
            {
                ThrowInvalid("step_ms", "must be > 0 for a location query.");
            }
            var result = await queries.LocationSeriesAsync("location_series", request.Location, Range(request.Metric, request.Range, request.StepMs, request.Function, request.Labels), allowRaw: false, context.CancellationToken).ConfigureAwait(false);
            var response = new GetLocationSeriesResponse { Resolution = result.Resolution.Name(), StepMs = StepMs(result.Step), HostCount = result.HostCount };
            response.Series.AddRange(result.Series.Select(ToProto));
            return response;
        });

    public override Task<GetLatestResponse> GetLatest(GetLatestRequest request, ServerCallContext context) =>
        RunAsync(async () =>
        {
            TimeSpan? window = request.WindowMs switch
            {
                < 0 => ThrowInvalid<TimeSpan>("window_ms", "must not be negative."),
                0 => null,
                var ms => TimeSpan.FromMilliseconds(ms),
            };
            var values = await queries.LatestAsync(request.Metric, request.Location, window, Labels(request.Labels), context.CancellationToken).ConfigureAwait(false);
            var response = new GetLatestResponse();
            response.Values.AddRange(values.Select(ToProto));
            return response;
        });

    public override Task<GetTopHostsResponse> GetTopHosts(GetTopHostsRequest request, ServerCallContext context) =>
        RunAsync(async () =>
        {
            var (start, end) = Instants(request.Range);
            var result = await queries.TopAsync(request.Metric, request.Location, start, end, request.Function, request.Limit == 0 ? null : request.Limit, request.Ascending, Labels(request.Labels), context.CancellationToken).ConfigureAwait(false);
            var response = new GetTopHostsResponse { Resolution = result.Resolution.Name() };
            response.Hosts.AddRange(result.Hosts.Select(ToProto));
            return response;
        });

    public override Task<GetLocationRollupResponse> GetLocationRollup(GetLocationRollupRequest request, ServerCallContext context) =>
        RunAsync(async () =>
        {
            var result = await queries.LocationRollupAsync(request.Location, Range(request.Metric, request.Range, request.StepMs, request.Function, request.Labels), context.CancellationToken).ConfigureAwait(false);
            var response = new GetLocationRollupResponse { Resolution = result.Resolution.Name(), StepMs = StepMs(result.Step), HostCount = result.HostCount };
            response.Points.AddRange(result.Points.Select(ToProto));
            return response;
        });

    public override Task<ListMetricsResponse> ListMetrics(ListMetricsRequest request, ServerCallContext context) =>
        RunAsync(async () =>
        {
            var response = new ListMetricsResponse();
            response.Metrics.AddRange(await queries.MetricsOfHostAsync(request.HostId, context.CancellationToken).ConfigureAwait(false));
            return response;
        });

    public override Task<ListLabelValuesResponse> ListLabelValues(ListLabelValuesRequest request, ServerCallContext context) =>
        RunAsync(async () =>
        {
            var response = new ListLabelValuesResponse();
            response.Labels.AddRange((await queries.LabelValuesAsync(request.HostId, request.Metric, context.CancellationToken).ConfigureAwait(false)).Select(ToProto));
            return response;
        });

    private static async Task<T> RunAsync<T>(Func<Task<T>> handler)
    {
        try
        {
            return await handler().ConfigureAwait(false);
        }
        catch (AnalyzeValidationException ex)
        {
            ThrowInvalid(GrpcField(ex.Field), ex.Message);
            throw;
        }
        catch (AnalyzeNotFoundException ex)
        {
            ThrowNotFound(GrpcField(ex.Field), ex.Message);
            throw;
        }
        catch (AnalyzeUnavailableException ex)
        {
            ThrowUnavailable(ex.Message);
            throw;
        }
    }

    private static RangeQuery Range(string metric, AnalyzeTimeRange? range, long stepMs, string function, IEnumerable<AnalyzeLabelFilter> labels)
    {
        if (stepMs < 0)
        {
            ThrowInvalid("step_ms", "must not be negative.");
        }
        var (start, end) = Instants(range);
        return new RangeQuery(metric, start, end, stepMs == 0 ? null : TimeSpan.FromMilliseconds(stepMs), function, Labels(labels));
    }

    private static (DateTimeOffset? Start, DateTimeOffset? End) Instants(AnalyzeTimeRange? range)
    {
        if (range is null)
        {
            return (null, null);
        }
        if (range.StartUnixMs < 0 || range.EndUnixMs < 0)
        {
            ThrowInvalid("range", "start_unix_ms and end_unix_ms must not be negative.");
        }
        return (range.StartUnixMs == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(range.StartUnixMs),
                range.EndUnixMs == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(Math.Min(range.EndUnixMs, Influx.LineProtocol.MaxTimestampUnixMs)));
    }

    private static List<LabelMatch> Labels(IEnumerable<AnalyzeLabelFilter> labels) =>
        [.. labels.Select(l => QueryParsing.Label(l.Key, l.Value))];

    private static long StepMs(TimeSpan? step) => step is { } s ? (long)s.TotalMilliseconds : 0;

    private static MetricSeries ToProto(SeriesData series)
    {
        var proto = new MetricSeries { HostId = series.HostId };
        foreach (var (key, value) in series.Labels)
        {
            proto.Labels[key] = value;
        }
        foreach (var point in series.Points)
        {
            proto.Points.Add(new SeriesPoint { TimestampUnixMs = point.TimestampMs, Value = point.Value });
        }
        return proto;
    }

    private static Protos.V1.HostValue ToProto(HostValue value) =>
        new() { HostId = value.HostId, Value = value.Value, TimestampUnixMs = value.TimestampMs };

    private static Protos.V1.RollupPoint ToProto(RollupPoint point) =>
        new() { TimestampUnixMs = point.TimestampMs, Mean = point.Mean, Min = point.Min, Max = point.Max, HostCount = point.HostCount };

    private static Protos.V1.LabelValues ToProto(LabelValues labels)
    {
        var proto = new Protos.V1.LabelValues { Key = labels.Key };
        proto.Values.AddRange(labels.Values);
        return proto;
    }

    // The shared validation names fields as the HTTP API spells them; gRPC callers see the proto field names.
    private static string GrpcField(string field) => field switch
    {
        "hostId" => "host_id",
        "step" => "step_ms",
        "start" or "end" => "range",
        "window" => "window_ms",
        _ => field,
    };

    [DoesNotReturn]
    private static void ThrowInvalid(string field, string message) =>
        throw new RpcException(new Status(StatusCode.InvalidArgument, $"{field}: {message}"));

    [DoesNotReturn]
    private static T ThrowInvalid<T>(string field, string message) =>
        throw new RpcException(new Status(StatusCode.InvalidArgument, $"{field}: {message}"));

    [DoesNotReturn]
    private static void ThrowNotFound(string field, string message) =>
        throw new RpcException(new Status(StatusCode.NotFound, $"{field}: {message}"));

    [DoesNotReturn]
    private static void ThrowUnavailable(string message) =>
        throw new RpcException(new Status(StatusCode.Unavailable, message));
}
