using Grpc.Core;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Monitor.Protos.V1;

// Usage: Monitor.AgentBench.AckSink <port>   (h2c on 127.0.0.1)
var port = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 18443;
var builder = WebApplication.CreateSlimBuilder();
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, port, o => o.Protocols = HttpProtocols.Http2));
builder.Services.AddGrpc();
var app = builder.Build();
app.MapGrpcService<AckSinkService>();
await app.RunAsync().ConfigureAwait(false);

/// <summary>Acknowledges every batch as accepted, in order.</summary>
internal sealed class AckSinkService : ReportService.ReportServiceBase
{
    public override async Task Report(IAsyncStreamReader<SampleBatch> requestStream, IServerStreamWriter<ReportAck> responseStream, ServerCallContext context)
    {
        await foreach (var batch in requestStream.ReadAllAsync(context.CancellationToken).ConfigureAwait(false))
        {
            await responseStream.WriteAsync(new ReportAck { Sequence = batch.Sequence, AcceptedCount = (uint)batch.Samples.Count }).ConfigureAwait(false);
        }
    }
}
