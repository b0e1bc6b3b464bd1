using System.Buffers;
using Google.Protobuf;
using Grpc.Core;
using Monitor.Protos.V1;

namespace Monitor.ReportService.Grpc;

/// <summary>
/// One agent batch exactly as it arrived: the wire bytes of a <c>monitor.v1.SampleBatch</c>. The report service checks
/// them in place and, when every sample is valid, forwards these same bytes to Kafka; it decodes them into objects only
/// when something has to be rejected or trimmed.
/// </summary>
internal sealed class RawSampleBatch(byte[] bytes)
{
    public byte[] Bytes { get; } = bytes;
}

/// <summary>
/// <c>monitor.v1.ReportService/Report</c>, the same method and wire format as the generated service base, bound with a
/// request marshaller that keeps each batch's bytes (<see cref="RawSampleBatch"/>) instead of decoding them. Agents and
/// the generated client see no difference.
/// </summary>
[BindServiceMethod(typeof(RawReportServiceBase), nameof(BindService))]
internal abstract class RawReportServiceBase
{
    internal static readonly Method<RawSampleBatch, ReportAck> ReportMethod = new(
        MethodType.DuplexStreaming,
        "monitor.v1.ReportService",
        "Report",
        Marshallers.Create(
            static (RawSampleBatch batch, SerializationContext context) => context.Complete(batch.Bytes),
            static context => new RawSampleBatch(context.PayloadAsReadOnlySequence().ToArray())),
        Marshallers.Create(
            static (ReportAck ack, SerializationContext context) =>
            {
                context.SetPayloadLength(ack.CalculateSize());
                ack.WriteTo(context.GetBufferWriter());
                context.Complete();
            },
            static context => ReportAck.Parser.ParseFrom(context.PayloadAsReadOnlySequence())));

    public abstract Task Report(IAsyncStreamReader<RawSampleBatch> requestStream, IServerStreamWriter<ReportAck> responseStream, ServerCallContext context);

    /// <summary>Called by grpc-dotnet's method discovery (with a null instance: it only reads the method list).</summary>
    public static void BindService(ServiceBinderBase serviceBinder, RawReportServiceBase? serviceImpl)
    {
        ArgumentNullException.ThrowIfNull(serviceBinder);
        serviceBinder.AddMethod(ReportMethod, serviceImpl is null ? null! : (DuplexStreamingServerMethod<RawSampleBatch, ReportAck>)serviceImpl.Report);
    }
}
