using Grpc.Net.Client;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Monitor.Protos.V1;
using Monitor.ReportService.Kafka;

namespace Monitor.ReportService.FunctionalTests;

/// <summary>The report service in-process (TestServer) with a controllable fake in place of Kafka.</summary>
public sealed class ReportApiFixture : WebApplicationFactory<Program>
{
    internal ControllablePublisher Publisher { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Service:HttpUrl", "http://127.0.0.1:1");
        builder.UseSetting("Service:GrpcUrl", "http://127.0.0.1:2");
        builder.UseSetting("Etcd:Endpoints:0", "");
        builder.UseSetting("Auth:Enabled", "false");
        builder.UseSetting("Kafka:BootstrapServers", "unused:9092");
        builder.UseSetting("Report:MaxInFlightPerStream", "4");
        builder.UseSetting("Report:MaxInFlightBatches", "8");
        builder.UseSetting("Report:SaturationTimeout", "00:00:00.200");
        builder.ConfigureTestServices(services =>
        {
            services.RemoveAll<ISampleBatchPublisher>();
            services.AddSingleton<ISampleBatchPublisher>(Publisher);
        });
    }

    public Monitor.Protos.V1.ReportService.ReportServiceClient CreateClient(out GrpcChannel channel)
    {
        channel = GrpcChannel.ForAddress(Server.BaseAddress, new GrpcChannelOptions { HttpHandler = Server.CreateHandler() });
        return new Monitor.Protos.V1.ReportService.ReportServiceClient(channel);
    }
}

/// <summary>A Kafka stand-in whose delivery reports the test releases or fails.</summary>
internal sealed class ControllablePublisher : ISampleBatchPublisher
{
    private readonly Lock _lock = new();
    public List<SampleBatch> Published { get; } = [];
    public Func<SampleBatch, Task>? OnPublish { get; set; }

    public async Task PublishAsync(string hostId, byte[] value, long receivedAtUnixMs, CancellationToken cancellationToken)
    {
        // What the real publisher would put into Kafka, decoded as the consumers decode it.
        var batch = SampleBatch.Parser.ParseFrom(value);
        if (OnPublish is { } hook)
        {
            await hook(batch).WaitAsync(cancellationToken);
        }
        lock (_lock)
        {
            Published.Add(batch);
        }
    }
}
