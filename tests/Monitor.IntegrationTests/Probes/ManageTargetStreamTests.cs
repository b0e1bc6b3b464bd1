using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Monitor.IntegrationTests.Agent;
using Monitor.Protos.V1;
using Monitor.TestUtilities;
using Xunit;

namespace Monitor.IntegrationTests.Probes;

/// <summary>
/// A real prober process takes its targets from a ProbeConfigService WatchTargets stream (served
/// here in-process, speaking protos/monitor/v1/probe.proto) and follows adds, edits and deletes
/// without restarting; its results go through the real report services into the ack ledger.
/// </summary>
[Collection(AgentCollection.Name)]
public sealed class ManageTargetStreamTests(AgentPipelineFixture pipeline)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    /// <summary>Serves the latest target set to every watcher, then every set published after it.</summary>
    public sealed class FakeProbeConfig : ProbeConfigService.ProbeConfigServiceBase
    {
        private readonly Lock _lock = new();
        private readonly List<Channel<TargetSet>> _watchers = [];
        private TargetSet _current = new();

        public List<(string HostId, string Version)> Watchers { get; } = [];

        public void Publish(TargetSet set)
        {
            lock (_lock)
            {
                _current = set;
                foreach (var w in _watchers)
                {
                    w.Writer.TryWrite(set);
                }
            }
        }

        public override async Task WatchTargets(WatchTargetsRequest request, IServerStreamWriter<TargetSet> responseStream, ServerCallContext context)
        {
            var channel = Channel.CreateUnbounded<TargetSet>();
            lock (_lock)
            {
                Watchers.Add((request.HostId, request.ProberVersion));
                _watchers.Add(channel);
                channel.Writer.TryWrite(_current);
            }
            try
            {
                await foreach (var set in channel.Reader.ReadAllAsync(context.CancellationToken))
                {
                    await responseStream.WriteAsync(set, context.CancellationToken);
                }
            }
            finally
            {
                lock (_lock)
                {
                    _watchers.Remove(channel);
                }
            }
        }
    }

    private static ProbeTarget Target(string name, string type, string json) => new()
    {
        Spec = new ProbeTargetSpec { Name = name, Type = type, ConfigJson = json, IntervalMs = 1000, TimeoutMs = 800, Enabled = true },
        Version = 1,
    };

    [Fact]
    public async Task TargetsFromTheStream_AddsEditsAndDeletesApplied_WithoutRestart()
    {
        // Arrange: a fake manage service and a listening TCP port.
        var ct = TestContext.Current.CancellationToken;
        await pipeline.EnsureReportsRunningAsync(ct);
        var fake = new FakeProbeConfig();
        var port = NativeProcess.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, o => o.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(fake);
        await using var app = builder.Build();
        app.MapGrpcService<FakeProbeConfig>();
        await app.StartAsync(ct);
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var openPort = ((IPEndPoint)listener.LocalEndpoint).Port;
        var closedPort = NativeProcess.FreePort();
        fake.Publish(new TargetSet { Revision = 1, Targets = { Target("m-tcp", "tcp", $$"""{"host":"127.0.0.1","port":{{openPort}}}""") } });

        using var run = new AgentRun("mprober");
        await using var prober = pipeline.StartProber("mprober-" + run.HostId, run, new() { ["Probes__Manage__Address"] = $"http://127.0.0.1:{port}" });
        List<AgentRun.Acked> Results(string target) =>
            run.AckedSamples().Where(a => a.Metric == "probe_success" && a.Labels["target"] == target).OrderBy(a => a.TimestampUnixMs).ToList();

        // Act 1: the first set runs.
        await Poll.UntilAsync(() => Results("m-tcp").Count(r => r.Value == 1) >= 2, Patience, "2 successful results of m-tcp", ct);

        // Act 2: m-tcp now points at a closed port, m-ping is added.
        fake.Publish(new TargetSet
        {
            Revision = 2,
            Targets =
            {
                Target("m-ping", "icmp", """{"host":"127.0.0.1","count":1}"""),
                Target("m-tcp", "tcp", $$"""{"host":"127.0.0.1","port":{{closedPort}}}"""),
            },
        });
        await Poll.UntilAsync(() => Results("m-tcp").Count(r => r.Value == 0) >= 2 && Results("m-ping").Count >= 2, Patience,
            "m-tcp failing on the closed port and m-ping running", ct);

        // Act 3: both deleted, m-marker added.
        fake.Publish(new TargetSet { Revision = 3, Targets = { Target("m-marker", "tcp", $$"""{"host":"127.0.0.1","port":{{openPort}}}""") } });
        await Poll.UntilAsync(() => Results("m-marker").Count >= 4, Patience, "4 results of m-marker", ct);
        var runningThroughout = !prober.HasExited;
        await prober.StopAsync(TimeSpan.FromSeconds(30));

        // Assert
        Assert.True(runningThroughout, "the prober must apply every change without restarting");
        Assert.Contains(fake.Watchers, w => w.HostId == run.HostId && w.Version.StartsWith("monitor-prober/", StringComparison.Ordinal));
        var failed = Results("m-tcp").Where(r => r.Value == 0).ToList();
        Assert.All(failed, r => Assert.Equal("refused", r.Labels["reason"]));
        var markerStart = Results("m-marker")[0].TimestampUnixMs;
        Assert.DoesNotContain(Results("m-tcp"), r => r.TimestampUnixMs > markerStart + 1000);
        Assert.DoesNotContain(Results("m-ping"), r => r.TimestampUnixMs > markerStart + 1000);
        Assert.Contains("Target set revision 3", prober.Tail(400), StringComparison.Ordinal);
    }
}
