using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Monitor.Influx;
using Monitor.PersistentService.Extensions;
using Monitor.PersistentService.Options;
using Polly;
using Polly.Registry;
using Polly.Retry;
using Polly.Testing;
using Xunit;

namespace Monitor.PersistentService.UnitTests;

public sealed class InfluxWritePipelineTests
{
    private static ResiliencePipeline Pipeline()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddMetrics();
        services.AddOptions<PersistenceOptions>().Configure(o =>
        {
            o.RetryInitialDelay = TimeSpan.FromMilliseconds(1);
            o.RetryMaxDelay = TimeSpan.FromMilliseconds(2);
        });
        services.AddSingleton<PersistenceMetrics>();
        services.AddResiliencePipeline("influx-write", PersistentServiceExtensions.ConfigureInfluxWrite);
        return services.BuildServiceProvider().GetRequiredService<ResiliencePipelineProvider<string>>().GetPipeline("influx-write");
    }

    [Fact]
    public void Descriptor_IsOneUnboundedExponentialRetry()
    {
        // Act
        var descriptor = Pipeline().GetPipelineDescriptor();

        // Assert
        var retry = Assert.IsType<RetryStrategyOptions>(Assert.Single(descriptor.Strategies).Options);
        Assert.Equal(int.MaxValue, retry.MaxRetryAttempts);
        Assert.Equal(DelayBackoffType.Exponential, retry.BackoffType);
        Assert.True(retry.UseJitter);
    }

    [Fact]
    public async Task Execute_TransientFailures_RetriedUntilSuccess()
    {
        // Arrange
        var attempts = 0;

        // Act
        await Pipeline().ExecuteAsync(_ =>
        {
            if (++attempts < 5)
            {
                throw new InfluxWriteException("down", HttpStatusCode.ServiceUnavailable, isTransient: true, isMalformed: false, serverError: null);
            }
            return ValueTask.CompletedTask;
        }, TestContext.Current.CancellationToken);

        // Assert
        Assert.Equal(5, attempts);
    }

    [Fact]
    public async Task Execute_Malformed_NotRetried()
    {
        // Arrange
        var attempts = 0;

        // Act
        var ex = await Assert.ThrowsAsync<InfluxWriteException>(async () => await Pipeline().ExecuteAsync(_ =>
        {
            attempts++;
            throw new InfluxWriteException("bad", HttpStatusCode.BadRequest, isTransient: false, isMalformed: true, serverError: "unable to parse");
        }, TestContext.Current.CancellationToken));

        // Assert
        Assert.Equal(1, attempts);
        Assert.True(ex.IsMalformed);
    }
}
