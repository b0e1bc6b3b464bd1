using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Monitor.Diagnostics.Requests;
using Xunit;

namespace Monitor.Diagnostics.FunctionalTests;

public sealed class RequestStatisticsTests : IDisposable
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 23, 10, 0, 30, TimeSpan.Zero));
    private readonly ServiceProvider _services;
    private readonly RequestStatistics _stats;

    public RequestStatisticsTests()
    {
        _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        _stats = new RequestStatistics(_time, _services.GetRequiredService<IMeterFactory>());
    }

    public void Dispose() => _services.Dispose();

    [Fact]
    public void Snapshot_CountsCallsStatusesAndErrorsPerRoute()
    {
        for (var i = 0; i < 7; i++)
        {
            _stats.Record("http", "GET /api/v1/x/{id}", 200, TimeSpan.FromMilliseconds(4));
        }
        _stats.Record("http", "GET /api/v1/x/{id}", 404, TimeSpan.FromMilliseconds(1));
        _stats.Record("http", "GET /api/v1/x/{id}", 500, TimeSpan.FromMilliseconds(900));
        _stats.Record("grpc", "/monitor.v1.S/M", 0, TimeSpan.FromMilliseconds(2));
        _stats.Record("grpc", "/monitor.v1.S/M", 5, TimeSpan.FromMilliseconds(2));

        var snapshot = _stats.Snapshot("k", "i", 5);

        Assert.Equal(2, snapshot.Routes.Count);
        var http = Assert.Single(snapshot.Routes, r => r.Protocol == "http");
        Assert.Equal(9, http.Calls);
        Assert.Equal(2, http.Errors);
        Assert.Equal(new Dictionary<string, long> { ["200"] = 7, ["404"] = 1, ["500"] = 1 }, http.Statuses);
        Assert.Equal(Math.Round(2.0 / 9, 4), http.ErrorRate);
        Assert.InRange(http.P50Ms!.Value, 3, 5);
        Assert.InRange(http.P99Ms!.Value, 750, 1000);
        Assert.Equal(9, http.LatencyCounts.Sum());
        var grpc = Assert.Single(snapshot.Routes, r => r.Protocol == "grpc");
        Assert.Equal(2, grpc.Calls);
        Assert.Equal(1, grpc.Errors);
        // 4 minutes of the window have passed plus 30 s of the current minute.
        Assert.Equal(Math.Round(9 / 270.0, 4), http.CallsPerSecond);
    }

    [Fact]
    public void Snapshot_WindowExcludesOlderMinutes_AndRingForgetsAfterAnHour()
    {
        _stats.Record("http", "GET /a", 200, TimeSpan.FromMilliseconds(1));
        _time.Advance(TimeSpan.FromMinutes(3));
        _stats.Record("http", "GET /a", 200, TimeSpan.FromMilliseconds(1));
        _stats.Record("http", "GET /a", 200, TimeSpan.FromMilliseconds(1));

        Assert.Equal(2, Assert.Single(_stats.Snapshot("k", "i", 1).Routes).Calls);
        Assert.Equal(2, Assert.Single(_stats.Snapshot("k", "i", 3).Routes).Calls);
        Assert.Equal(3, Assert.Single(_stats.Snapshot("k", "i", 4).Routes).Calls);

        _time.Advance(TimeSpan.FromMinutes(RequestStatistics.MaxWindowMinutes + 1));
        Assert.Empty(_stats.Snapshot("k", "i", 60).Routes);

        // A slot reused after the ring wrapped starts from zero.
        _stats.Record("http", "GET /a", 200, TimeSpan.FromMilliseconds(1));
        Assert.Equal(1, Assert.Single(_stats.Snapshot("k", "i", 60).Routes).Calls);
    }

    [Fact]
    public void Record_BoundsRouteCardinality()
    {
        for (var i = 0; i < RequestStatistics.MaxRoutes + 50; i++)
        {
            _stats.Record("http", $"GET /r{i}", 200, TimeSpan.FromMilliseconds(1));
        }
        var routes = _stats.Snapshot("k", "i", 1).Routes;
        Assert.Equal(RequestStatistics.MaxRoutes + 1, routes.Count);
        Assert.Equal(50, Assert.Single(routes, r => r.Route == RequestStatistics.OtherRoute).Calls);
    }

    [Fact]
    public void Percentile_InterpolatesWithinBucket_AndIsNullWhenEmpty()
    {
        var counts = new long[RequestStatistics.LatencyBoundsMs.Length + 1];
        Assert.Null(RequestStatistics.Percentile(counts, 0.5));
        var tenMs = Array.IndexOf(RequestStatistics.LatencyBoundsMs, 10.0);
        counts[tenMs] = 100; // all in (7.5, 10]
        Assert.Equal(8.75, RequestStatistics.Percentile(counts, 0.5));
        Assert.Equal(10, RequestStatistics.Percentile(counts, 1.0));
        counts[^1] = 1_000_000; // overflow reports its lower bound
        Assert.Equal(RequestStatistics.LatencyBoundsMs[^1], RequestStatistics.Percentile(counts, 0.99));
    }

    [Theory]
    [InlineData(null, 5)]
    [InlineData("", 5)]
    [InlineData("5m", 5)]
    [InlineData("90s", 2)]
    [InlineData("1h", 60)]
    [InlineData("30", 1)]
    [InlineData("2.5m", 3)]
    public void TryParseWindowMinutes_AcceptsUnits(string? window, int expected)
    {
        Assert.True(RequestStatisticsEndpoints.TryParseWindowMinutes(window, out var minutes, out _));
        Assert.Equal(expected, minutes);
    }

    [Theory]
    [InlineData("0m")]
    [InlineData("-5m")]
    [InlineData("2h")]
    [InlineData("abc")]
    [InlineData("5d")]
    public void TryParseWindowMinutes_RefusesBadWindows(string window)
    {
        Assert.False(RequestStatisticsEndpoints.TryParseWindowMinutes(window, out _, out var error));
        Assert.NotEmpty(error);
    }

    [Fact]
    public void RouteOf_UsesTemplateNeverRawPath()
    {
        var endpoint = new Microsoft.AspNetCore.Routing.RouteEndpoint(
            _ => Task.CompletedTask, Microsoft.AspNetCore.Routing.Patterns.RoutePatternFactory.Parse("/api/v1/x/{id}"), 0, null, null);
        Assert.Equal("GET /api/v1/x/{id}", RequestStatisticsMiddleware.RouteOf("GET", endpoint));
        Assert.Equal("OTHER (unmatched)", RequestStatisticsMiddleware.RouteOf("BREW", null));
    }
}
