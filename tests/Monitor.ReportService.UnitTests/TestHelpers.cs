using System.Diagnostics.Metrics;
using Grpc.Core;
using Monitor.ReportService.Options;
using Monitor.ReportService.Validation;

namespace Monitor.ReportService.UnitTests;

/// <summary>A <see cref="BatchValidator"/> with the default options, optionally changed.</summary>
internal static class TestValidator
{
    public static BatchValidator Create(Action<ReportOptions>? configure = null)
    {
        var options = new ReportOptions();
        configure?.Invoke(options);
        return new BatchValidator(Microsoft.Extensions.Options.Options.Create(options));
    }
}

/// <summary>An <see cref="IMeterFactory"/> that keeps its meters so tests can listen to them.</summary>
internal sealed class TestMeterFactory : IMeterFactory
{
    public List<Meter> Meters { get; } = [];

    public Meter Create(MeterOptions options)
    {
        var meter = new Meter(options.Name, options.Version, options.Tags, scope: this);
        Meters.Add(meter);
        return meter;
    }

    public void Dispose()
    {
        foreach (var meter in Meters)
        {
            meter.Dispose();
        }
    }
}

/// <summary>A minimal <see cref="ServerCallContext"/> for calling handlers directly (as eShop's Basket.UnitTests does).</summary>
internal sealed class TestServerCallContext(CancellationToken cancellationToken = default) : ServerCallContext
{
    protected override string MethodCore => "test";
    protected override string HostCore => "localhost";
    protected override string PeerCore => "ipv4:127.0.0.1:1";
    protected override DateTime DeadlineCore => DateTime.MaxValue;
    protected override Metadata RequestHeadersCore { get; } = [];
    protected override CancellationToken CancellationTokenCore => cancellationToken;
    protected override Metadata ResponseTrailersCore { get; } = [];
    protected override Status StatusCore { get; set; }
    protected override WriteOptions? WriteOptionsCore { get; set; }
    protected override AuthContext AuthContextCore => new(null, []);
    protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) => throw new NotSupportedException();
    protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => Task.CompletedTask;
}
