using System.Diagnostics.Metrics;
using Microsoft.Extensions.Time.Testing;
using Monitor.ManageService.Extensions;
using Monitor.ManageService.Options;
using Monitor.ManageService.Registry;
using Monitor.ServiceDefaults.Discovery;
using Xunit;
using MsOptions = Microsoft.Extensions.Options.Options;

namespace Monitor.ManageService.UnitTests;

public sealed class ServiceRegistryViewTests
{
    private const string Record = """{"grpc":"http://127.0.0.1:8000","http":"http://127.0.0.1:8100","version":"1.2.3","startedAt":"2026-01-01T00:00:00+00:00"}""";
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    private ServiceRegistryView CreateView()
    {
        return new ServiceRegistryView(MsOptions.Create(new EtcdOptions()), MsOptions.Create(new ManageOptions { Registry = new RegistryOptions { KeepGoneFor = TimeSpan.FromMinutes(1) } }),
            _time, new ManageMetrics(new NoopMeterFactory()));
    }

    [Fact]
    public void Put_ParsesKindInstanceAndRecord()
    {
        // Arrange
        var view = CreateView();

        // Act
        view.Put("/monitor/services/report/r-1", Record, 77);

        // Assert
        var i = Assert.Single(view.List(null));
        Assert.Equal(("report", "r-1", "http://127.0.0.1:8000", "http://127.0.0.1:8100", "1.2.3", 77L, true),
            (i.Kind, i.InstanceId, i.GrpcUrl, i.HttpUrl, i.Version, i.LeaseId, i.LeaseAlive));
    }

    [Fact]
    public void Delete_KeepsInstanceAsGone_ThenForgetsIt()
    {
        // Arrange
        var view = CreateView();
        view.Put("/monitor/services/report/r-1", Record, 1);
        view.Put("/monitor/services/manage/m-1", "not json", 2);

        // Act
        view.Delete("/monitor/services/report/r-1", _time.GetUtcNow());

        // Assert
        var gone = view.List("report").Single();
        Assert.False(gone.LeaseAlive);
        Assert.Equal(_time.GetUtcNow(), gone.GoneAt);
        Assert.True(view.List("manage").Single().LeaseAlive);
        _time.Advance(TimeSpan.FromMinutes(2));
        Assert.Empty(view.List("report"));
    }

    [Fact]
    public void Reset_MarksKeysMissingFromTheSnapshotGone()
    {
        // Arrange
        var view = CreateView();
        view.Put("/monitor/services/report/r-1", Record, 1);

        // Act
        view.Reset([("/monitor/services/report/r-2", Record, 3)]);

        // Assert
        var list = view.List(null);
        Assert.False(list.Single(i => i.InstanceId == "r-1").LeaseAlive);
        Assert.True(list.Single(i => i.InstanceId == "r-2").LeaseAlive);
    }

    [Fact]
    public void Put_KeyOutsidePrefixOrWithoutInstance_IsIgnored()
    {
        // Arrange
        var view = CreateView();

        // Act
        view.Put("/other/report/r-1", Record, 1);
        view.Put("/monitor/services/report", Record, 1);

        // Assert
        Assert.Empty(view.List(null));
    }

    [Fact]
    public void RangeEnd_CoversThePrefix() => Assert.Equal("/monitor/services0", ServiceRegistryWatcher.RangeEnd("/monitor/services/"));
}

internal sealed class NoopMeterFactory : IMeterFactory
{
    public Meter Create(MeterOptions options) => new(options);

    public void Dispose()
    {
    }
}
