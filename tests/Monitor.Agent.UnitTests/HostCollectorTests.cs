using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Monitor.Agent.Collectors;
using Monitor.Protos.V1;
using Xunit;

namespace Monitor.Agent.UnitTests;

public sealed class HostCollectorTests
{
    private sealed class FixedCollector(string name, double value) : ICollector
    {
        public string Name => name;

        public void Collect(SampleWriter writer) => writer.Add(name + "_value", value);
    }

    private sealed class ThrowingCollector : ICollector
    {
        public string Name => "broken";

        public void Collect(SampleWriter writer) => throw new FormatException("unparsable");
    }

    private sealed class HangingCollector(ManualResetEventSlim release) : ICollector
    {
        public int Calls;

        public string Name => "hung";

        public bool MayBlock => true;

        public void Collect(SampleWriter writer)
        {
            Interlocked.Increment(ref Calls);
            release.Wait(TimeSpan.FromSeconds(30));
            writer.Add("hung_value", 1);
        }
    }

    [Fact]
    public async Task CollectAsync_OneCollectorThrowsAndOneHangs_OthersReportAndFailuresAreCounted()
    {
        // Arrange
        using var release = new ManualResetEventSlim();
        var hanging = new HangingCollector(release);
        var host = new HostCollector(
            [new FixedCollector("a", 1), new ThrowingCollector(), hanging, new FixedCollector("b", 2)],
            new Dictionary<string, string>(), TimeSpan.FromMilliseconds(200), TimeProvider.System, NullLogger<HostCollector>.Instance);
        var samples = new List<Sample>();

        // Act
        await host.CollectAsync(42, samples, TestContext.Current.CancellationToken);
        var second = new List<Sample>();
        await host.CollectAsync(43, second, TestContext.Current.CancellationToken);
        release.Set();

        // Assert: a and b report; the throwing and the hanging collectors are counted as failed.
        Assert.Equal(["a_value", "b_value"], samples.Where(s => !s.Metric.StartsWith("agent_", StringComparison.Ordinal)).Select(s => s.Metric));
        Assert.Equal(1, Failures(samples, "broken"));
        Assert.Equal(1, Failures(samples, "hung"));
        Assert.Equal(0, Failures(samples, "a"));
        Assert.Contains(samples, s => s.Metric == "agent_collector_duration_seconds" && s.Labels["collector"] == "a");
        // The stuck call is not started a second time; it counts as failed again.
        Assert.Equal(1, hanging.Calls);
        Assert.Equal(2, Failures(second, "hung"));
        Assert.All(samples, s => Assert.Equal(42, s.TimestampUnixMs));
    }

    [Fact]
    public async Task PrimeAsync_AnySamples_AreDiscarded()
    {
        // Arrange
        var host = new HostCollector([new FixedCollector("a", 1)], new Dictionary<string, string>(), TimeSpan.FromSeconds(5), TimeProvider.System, NullLogger<HostCollector>.Instance);

        // Act
        await host.PrimeAsync(TestContext.Current.CancellationToken);
        var samples = new List<Sample>();
        await host.CollectAsync(1, samples, TestContext.Current.CancellationToken);

        // Assert
        Assert.Single(samples, s => s.Metric == "a_value");
    }

    private sealed class SlowCollector(FakeTimeProvider time) : ICollector
    {
        public string Name => "slow";

        public void Collect(SampleWriter writer)
        {
            time.Advance(TimeSpan.FromSeconds(6));
            writer.Add("slow_value", 1);
        }
    }

    [Fact]
    public async Task CollectAsync_InlineCollectorSlowerThanTimeout_DropsItsSamplesAndCountsAFailure()
    {
        // Arrange
        var time = new FakeTimeProvider();
        var host = new HostCollector([new SlowCollector(time), new FixedCollector("a", 1)], new Dictionary<string, string>(), TimeSpan.FromSeconds(5), time, NullLogger<HostCollector>.Instance);
        var samples = new List<Sample>();

        // Act
        await host.CollectAsync(1, samples, TestContext.Current.CancellationToken);

        // Assert
        Assert.DoesNotContain(samples, s => s.Metric == "slow_value");
        Assert.Contains(samples, s => s.Metric == "a_value");
        Assert.Equal(1, Failures(samples, "slow"));
    }

    private static double Failures(List<Sample> samples, string collector) =>
        Assert.Single(samples, s => s.Metric == "agent_collector_failures_total" && s.Labels["collector"] == collector).Value;
}
