using System.Net;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Monitor.Protos.V1;

namespace Monitor.LoadGen;

/// <summary>
/// The baseline server: an in-process Kestrel gRPC server implementing <c>monitor.v1.ReportService</c> that acks
/// every batch immediately (no validation, no Kafka). Whatever the real report services reach below this is the
/// cost of validation, Kafka produce with acks=all, and their own process.
/// </summary>
internal sealed class NoOpReportSink : IAsyncDisposable
{
    private readonly WebApplication _app;

    private NoOpReportSink(WebApplication app, string url)
    {
        _app = app;
        Url = url;
    }

    public string Url { get; }

    public static async Task<NoOpReportSink> StartAsync(CancellationToken cancellationToken)
    {
        var port = StackEndpoints.FreePort();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, l => l.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        var app = builder.Build();
        app.MapGrpcService<NoOpReportService>();
        await app.StartAsync(cancellationToken);
        return new NoOpReportSink(app, $"http://127.0.0.1:{port}");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

internal sealed class NoOpReportService : ReportService.ReportServiceBase
{
    public override async Task Report(IAsyncStreamReader<SampleBatch> requestStream, IServerStreamWriter<ReportAck> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(requestStream);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        await foreach (var batch in requestStream.ReadAllAsync(context.CancellationToken))
        {
            await responseStream.WriteAsync(new ReportAck { Sequence = batch.Sequence, AcceptedCount = (uint)batch.Samples.Count }, context.CancellationToken);
        }
    }
}
