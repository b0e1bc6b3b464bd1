using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using Monitor.Prober.Probes;
using Monitor.Prober.Targets;
using Xunit;

namespace Monitor.Prober.UnitTests;

/// <summary>The runner's hard deadline, independent of what the probe (its client library) does.</summary>
public sealed class ProbeRunnerTests
{
    private static readonly TargetDefinition Target = new("t", "tcp", TargetDefinition.ConfigFromJson("{}"), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(5), true);

    private sealed class DelegateProbe(Func<CancellationToken, Task<ProbeResult>> run) : IProbe
    {
        public Task<ProbeResult> RunAsync(CancellationToken cancellationToken) => run(cancellationToken);
    }

    [Fact]
    public async Task RunAsync_ProbeIgnoresCancellationAndNeverReturns_TimeoutResultAtTheDeadline()
    {
        // Arrange: a probe that blocks like a client library waiting on a frozen server.
        var time = new FakeTimeProvider();
        var never = new TaskCompletionSource<ProbeResult>();
        var runner = new ProbeRunner(time);
        var run = runner.RunAsync(new DelegateProbe(_ => never.Task), Target, TestContext.Current.CancellationToken);

        // Act
        time.Advance(TimeSpan.FromSeconds(4.9));
        await Task.Delay(50, TestContext.Current.CancellationToken);
        var beforeDeadline = run.IsCompleted;
        time.Advance(TimeSpan.FromSeconds(0.1));
        var result = await run.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        // Assert
        Assert.False(beforeDeadline);
        Assert.False(result.Success);
        Assert.Equal(ProbeFailure.Timeout, result.Failure);
        Assert.Equal(TimeSpan.FromSeconds(5), result.Duration);
        Assert.Contains("timeout of 5 s", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_BlockingSynchronousProbe_Abandoned()
    {
        // Arrange: a probe that blocks its thread (as librdkafka's calls do) and never looks at the token.
        var time = new FakeTimeProvider();
        using var release = new ManualResetEventSlim();
        var runner = new ProbeRunner(time);
        var run = runner.RunAsync(new DelegateProbe(_ =>
        {
            release.Wait(TimeSpan.FromMinutes(1), CancellationToken.None);
            return Task.FromResult(ProbeResult.Ok([]));
        }), Target, TestContext.Current.CancellationToken);

        // Act
        time.Advance(TimeSpan.FromSeconds(5));
        var result = await run.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        release.Set();

        // Assert
        Assert.Equal(ProbeFailure.Timeout, result.Failure);
    }

    [Fact]
    public async Task RunAsync_ProbeHonoursToken_TimeoutNotError()
    {
        // Arrange
        var time = new FakeTimeProvider();
        var runner = new ProbeRunner(time);
        var run = runner.RunAsync(new DelegateProbe(async ct =>
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, ct);
            return ProbeResult.Ok([]);
        }), Target, TestContext.Current.CancellationToken);

        // Act
        time.Advance(TimeSpan.FromSeconds(5));
        var result = await run.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        // Assert
        Assert.Equal(ProbeFailure.Timeout, result.Failure);
    }

    [Fact]
    public async Task RunAsync_ProbeThrowsRefused_ClassifiedRefused()
    {
        // Arrange
        var runner = new ProbeRunner(new FakeTimeProvider());

        // Act
        var result = await runner.RunAsync(new DelegateProbe(_ => throw new SocketException((int)SocketError.ConnectionRefused)), Target, TestContext.Current.CancellationToken);

        // Assert
        Assert.False(result.Success);
        Assert.Equal(ProbeFailure.Refused, result.Failure);
    }

    [Fact]
    public async Task RunAsync_FastProbe_ResultAndDuration()
    {
        // Arrange
        var time = new FakeTimeProvider();
        var runner = new ProbeRunner(time);

        // Act
        var result = await runner.RunAsync(new DelegateProbe(_ => Task.FromResult(ProbeResult.Ok([new("probe_x", 1)]))), Target, TestContext.Current.CancellationToken);

        // Assert
        Assert.True(result.Success);
        Assert.Null(result.Failure);
        Assert.Equal("probe_x", Assert.Single(result.Metrics).Name);
    }

    [Theory]
    [InlineData(SocketError.HostNotFound, ProbeFailure.Dns)]
    [InlineData(SocketError.ConnectionRefused, ProbeFailure.Refused)]
    [InlineData(SocketError.ConnectionReset, ProbeFailure.Refused)]
    [InlineData(SocketError.TimedOut, ProbeFailure.Timeout)]
    [InlineData(SocketError.AccessDenied, ProbeFailure.Error)]
    public void Classify_SocketErrors(SocketError error, ProbeFailure expected)
    {
        // Act
        var failure = ProbeErrors.Classify(new HttpRequestException("x", new SocketException((int)error)));

        // Assert
        Assert.Equal(expected, failure);
    }
}
