using Microsoft.Extensions.Options;
using Monitor.Influx;
using Monitor.PersistentService.Extensions;
using Monitor.PersistentService.Kafka;
using Monitor.PersistentService.Options;
using Polly;
using Polly.Retry;

namespace Microsoft.Extensions.Hosting;

internal static partial class PersistentServiceExtensions
{
    public static IHostApplicationBuilder AddPersistentService(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptionsWithValidateOnStart<PersistenceOptions, PersistenceOptionsValidator>().BindConfiguration(PersistenceOptions.SectionName);
        services.AddMonitorKafkaOptions();
        services.AddMonitorInflux();
        services.AddSingleton<PersistenceMetrics>();
        services.AddSingleton<DeadLetterPublisher>();
        services.AddResiliencePipeline(ResiliencePipelines.InfluxWrite, ConfigureInfluxWrite);
        services.AddHostedService<PersistenceWorker>();
        return builder;
    }

    /// <summary>
    /// Writes are retried for as long as it takes (exponential backoff with jitter, capped): while
    /// InfluxDB is down the consumer simply does not move on, so nothing is committed past unwritten
    /// data. A 400 (malformed points) is not retried: the worker isolates and dead-letters it.
    /// </summary>
    internal static void ConfigureInfluxWrite(ResiliencePipelineBuilder builder, Polly.DependencyInjection.AddResiliencePipelineContext<string> context)
    {
        var options = context.ServiceProvider.GetRequiredService<IOptions<PersistenceOptions>>().Value;
        var metrics = context.ServiceProvider.GetRequiredService<PersistenceMetrics>();
        var logger = context.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(PersistentServiceExtensions).FullName!);
        builder.AddRetry(new RetryStrategyOptions
        {
            MaxRetryAttempts = int.MaxValue,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = options.RetryInitialDelay,
            MaxDelay = options.RetryMaxDelay,
            ShouldHandle = new PredicateBuilder().Handle<InfluxWriteException>(ex => !ex.IsMalformed),
            OnRetry = args =>
            {
                var ex = (InfluxWriteException)args.Outcome.Exception!;
                metrics.WriteFailed(ex.IsTransient ? "transient" : "rejected");
                Log.WriteFailed(logger, args.AttemptNumber + 1, args.RetryDelay, ex.Message);
                return ValueTask.CompletedTask;
            },
        });
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3005, EventName = "InfluxWriteFailed", Level = LogLevel.Warning,
            Message = "InfluxDB write failed (attempt {Attempt}), nothing committed; retrying in {Delay}: {Error}")]
        public static partial void WriteFailed(ILogger logger, int attempt, TimeSpan delay, string error);
    }
}

/// <summary>Keys of the named resilience pipelines.</summary>
internal static class ResiliencePipelines
{
    public const string InfluxWrite = "influx-write";
}
