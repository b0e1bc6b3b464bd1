using Grpc.Core;
using Monitor.Protos.Legacy;
using Monitor.Protos.V1;
using Monitor.ServiceDefaults.Auth;

namespace Monitor.ReportService.Grpc;

/// <summary>
/// The original system's unary <c>proto.Report/Report</c>, so that legacy agents keep working while a
/// fleet migrates host by host. Maps onto <c>cpu_rate</c>/<c>mem_rate</c> through the same ingest
/// path (same validation, same ack-after-Kafka rule) and answers with the original's codes.
/// </summary>
// The original agents cannot send credentials: accepted anonymously only with Auth:AllowAnonymousLegacy=true.
[RequireAgent]
internal sealed class LegacyReportGrpcService : Report.ReportBase
{
    public const int Success = 200;
    public const int BadRequest = 400;
    public const int Overloaded = 429;
    public const int Unavailable = 503;

    private readonly BatchIngestor _ingestor;

    public LegacyReportGrpcService(BatchIngestor ingestor) => _ingestor = ingestor;

    public override async Task<reportResp> Report(reportReq request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var timestampMs = request.TimeStamp * 1000;
        var batch = new SampleBatch { HostId = request.HostID };
        batch.Samples.Add(new Sample { Metric = "cpu_rate", Value = request.CpuRate, TimestampUnixMs = timestampMs });
        batch.Samples.Add(new Sample { Metric = "mem_rate", Value = request.MemRate, TimestampUnixMs = timestampMs });
        try
        {
            var ack = await _ingestor.IngestAsync(batch, context.CancellationToken).ConfigureAwait(false);
            if (ack.Rejections.Count == 0)
            {
                return new reportResp { Code = Success, Value = "success" };
            }
            return new reportResp
            {
                Code = BadRequest,
                Value = string.Join("; ", ack.Rejections.Select(r => $"{r.Reason}: {r.Detail}")),
            };
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.Unavailable or StatusCode.ResourceExhausted)
        {
            return new reportResp
            {
                Code = ex.StatusCode == StatusCode.ResourceExhausted ? Overloaded : Unavailable,
                Value = ex.Status.Detail,
            };
        }
    }
}
