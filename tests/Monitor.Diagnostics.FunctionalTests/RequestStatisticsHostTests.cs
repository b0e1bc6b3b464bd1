using System.Net;
using System.Text.Json;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Xunit;

namespace Monitor.Diagnostics.FunctionalTests;

/// <summary>Request statistics of a real Kestrel host built with the Monitor defaults count the calls the test makes.</summary>
public sealed class RequestStatisticsHostTests
{
    [Fact]
    public async Task PerInstanceView_CountsHttpRoutesAndGrpcMethods_WithErrors()
    {
        await using var host = await SelfHost.StartAsync(token: null, app =>
        {
            app.MapGet("/api/v1/selftest/items/{id}", (string id) => id == "missing" ? Results.NotFound() : Results.Ok(id));
            app.MapGet("/api/v1/selftest/boom", IResult () => throw new InvalidOperationException("boom"));
        });
        var ct = TestContext.Current.CancellationToken;
        using var http = new HttpClient { BaseAddress = new Uri(host.HttpUrl) };
        for (var i = 0; i < 5; i++)
        {
            using var ok = await http.GetAsync($"/api/v1/selftest/items/item-{i}", ct);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
        for (var i = 0; i < 2; i++)
        {
            using var missing = await http.GetAsync("/api/v1/selftest/items/missing", ct);
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        }
        using (var boom = await http.GetAsync("/api/v1/selftest/boom", ct))
        {
            Assert.Equal(HttpStatusCode.InternalServerError, boom.StatusCode);
        }
        using (var unmatched = await http.GetAsync("/no/such/path/12345", ct))
        {
            Assert.Equal(HttpStatusCode.NotFound, unmatched.StatusCode);
        }

        using var channel = GrpcChannel.ForAddress(host.GrpcUrl);
        var health = new Health.HealthClient(channel);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest(), cancellationToken: ct)).Status);
        }
        var notFound = await Assert.ThrowsAsync<RpcException>(async () => await health.CheckAsync(new HealthCheckRequest { Service = "no-such-service" }, cancellationToken: ct));
        Assert.Equal(StatusCode.NotFound, notFound.StatusCode);

        using var response = await http.GetAsync("/api/v1/selftest/instance/stats/requests?window=5m", ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        Assert.True(response.IsSuccessStatusCode, text);
        var json = JsonDocument.Parse(text).RootElement;
        Assert.Equal("selftest", json.GetProperty("kind").GetString());
        Assert.Equal("selftest-1", json.GetProperty("instance").GetString());
        Assert.Equal(300, json.GetProperty("windowSeconds").GetInt32());
        var routes = json.GetProperty("routes").EnumerateArray().ToDictionary(r => r.GetProperty("route").GetString()!);

        var items = routes["GET /api/v1/selftest/items/{id}"];
        Assert.Equal("http", items.GetProperty("protocol").GetString());
        Assert.Equal(7, items.GetProperty("calls").GetInt64());
        Assert.Equal(2, items.GetProperty("errors").GetInt64());
        Assert.Equal(5, items.GetProperty("statuses").GetProperty("200").GetInt64());
        Assert.Equal(2, items.GetProperty("statuses").GetProperty("404").GetInt64());
        Assert.True(items.GetProperty("p50Ms").GetDouble() > 0);
        Assert.True(items.GetProperty("p99Ms").GetDouble() >= items.GetProperty("p50Ms").GetDouble());

        var boomRow = routes["GET /api/v1/selftest/boom"];
        Assert.Equal(1, boomRow.GetProperty("calls").GetInt64());
        Assert.Equal(1, boomRow.GetProperty("statuses").GetProperty("500").GetInt64());
        Assert.Equal(1.0, boomRow.GetProperty("errorRate").GetDouble());

        Assert.Equal(1, routes["GET (unmatched)"].GetProperty("calls").GetInt64());
        Assert.DoesNotContain(routes.Keys, k => k.Contains("item-", StringComparison.Ordinal) || k.Contains("12345", StringComparison.Ordinal));

        var check = routes["/grpc.health.v1.Health/Check"];
        Assert.Equal("grpc", check.GetProperty("protocol").GetString());
        Assert.Equal(4, check.GetProperty("calls").GetInt64());
        Assert.Equal(1, check.GetProperty("errors").GetInt64());
        Assert.Equal(3, check.GetProperty("statuses").GetProperty("0").GetInt64());
        Assert.Equal(1, check.GetProperty("statuses").GetProperty(((int)StatusCode.NotFound).ToString(System.Globalization.CultureInfo.InvariantCulture)).GetInt64());

        // The same figures are on /metrics (Prometheus), by route and status.
        var metrics = await http.GetStringAsync("/metrics", ct);
        Assert.Contains("monitor_requests_total{", metrics, StringComparison.Ordinal);
        Assert.Contains("route=\"/grpc.health.v1.Health/Check\"", metrics, StringComparison.Ordinal);
        Assert.Contains("dotnet_gc_collections_total", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SwitchedOff_CountsNothing()
    {
        await using var host = await SelfHost.StartAsync(token: null, extra: new Dictionary<string, string?> { ["Diagnostics:RequestStatistics"] = "false" });
        var ct = TestContext.Current.CancellationToken;
        using var http = new HttpClient { BaseAddress = new Uri(host.HttpUrl) };
        using (var live = await http.GetAsync("/health/live", ct))
        {
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        }
        using var channel = GrpcChannel.ForAddress(host.GrpcUrl);
        await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest(), cancellationToken: ct);
        var json = JsonDocument.Parse(await http.GetStringAsync("/api/v1/selftest/instance/stats/requests", ct)).RootElement;
        Assert.Empty(json.GetProperty("routes").EnumerateArray());
    }

    [Fact]
    public async Task PerInstanceView_RefusesABadWindow()
    {
        await using var host = await SelfHost.StartAsync(token: null);
        using var http = new HttpClient { BaseAddress = new Uri(host.HttpUrl) };
        using var response = await http.GetAsync("/api/v1/selftest/instance/stats/requests?window=3d", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("window", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }
}
