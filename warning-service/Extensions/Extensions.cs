using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Monitor.ServiceDefaults.Discovery;
using Monitor.WarningService.Api;
using Monitor.WarningService.Data;
using Monitor.WarningService.Evaluation;
using Monitor.WarningService.Extensions;
using Monitor.WarningService.Grpc;
using Monitor.WarningService.Hosts;
using Monitor.WarningService.Notifications;
using Monitor.WarningService.Options;
using Monitor.WarningService.Rules;
using MySqlConnector;
using Polly;
using Polly.Retry;

namespace Microsoft.Extensions.Hosting;

internal static class WarningServiceExtensions
{
    public static IHostApplicationBuilder AddWarningService(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptionsWithValidateOnStart<WarningOptions, WarningOptionsValidator>().BindConfiguration(WarningOptions.SectionName);
        services.AddMonitorKafkaOptions();
        services.AddMonitorInflux();

        var connectionString = builder.Configuration.GetConnectionString("Warning")
            ?? throw new InvalidOperationException("ConnectionStrings:Warning is required (MySQL/MariaDB database monitor_warning)");
        services.AddDbContextFactory<WarningDbContext>((sp, o) =>
        {
            var version = Version.Parse(sp.GetRequiredService<IOptions<WarningOptions>>().Value.MariaDbVersion);
            o.UseMySql(connectionString, new MariaDbServerVersion(version));
        });

        services.AddSingleton<WarningMetrics>();
        services.AddSingleton<RuleValidator>();
        services.AddSingleton<RuleCatalog>();
        services.AddSingleton<RuleService>();
        services.AddSingleton<ChannelService>();
        services.AddSingleton<AlertService>();
        services.AddSingleton<AlertStore>();
        services.AddOptionsWithValidateOnStart<ManageOptions, ManageOptionsValidator>().BindConfiguration(ManageOptions.SectionName);
        services.AddSingleton<ManageHostDirectory>();
        services.AddSingleton<IHostLocationResolver>(sp => sp.GetRequiredService<ManageHostDirectory>());
        services.AddHostedService(sp => sp.GetRequiredService<ManageHostDirectory>());
        services.AddGrpcClient<Monitor.Protos.V1.ManageService.ManageServiceClient>((sp, o) =>
            o.Address = sp.GetRequiredService<IOptions<ManageOptions>>().Value.Address ?? new Uri("http://127.0.0.1:8050"))
            .ConfigureChannel((sp, o) => DiscoveredChannel.Configure(sp.GetRequiredService<IOptions<ManageOptions>>().Value.Address, o))
            .AddMonitorServiceToken();
        services.AddGrpcClient<Monitor.Protos.V1.ProbeConfigService.ProbeConfigServiceClient>((sp, o) =>
            o.Address = sp.GetRequiredService<IOptions<ManageOptions>>().Value.Address ?? new Uri("http://127.0.0.1:8050"))
            .ConfigureChannel((sp, o) => DiscoveredChannel.Configure(sp.GetRequiredService<IOptions<ManageOptions>>().Value.Address, o))
            .AddMonitorServiceToken();
        services.AddSingleton<Monitor.WarningService.Probes.ProbeTargetDirectory>();
        services.AddSingleton<Monitor.WarningService.Probes.ProbeAlertStore>();
        services.AddSingleton<NotificationPlanner>();
        services.AddSingleton<NotificationSignal>();
        services.AddSingleton<HttpChannelSender>();
        services.AddSingleton<EmailChannelSender>();
        // The robots' URLs carry their access tokens: the factory's request logging would print them.
        services.AddHttpClient(HttpChannelSender.ClientName).RemoveAllLoggers();
        services.AddResiliencePipeline(ResiliencePipelines.StatePersist, ConfigureStatePersist);
        services.AddResiliencePipeline(ResiliencePipelines.NotificationSend, ConfigureNotificationSend);

        services.AddOpenApi();

        // Order matters: the schema exists before any worker touches it.
        services.AddHostedService<MigrationService>();
        services.AddHostedService<RuleRefreshWorker>();
        services.AddHostedService<BuiltInRuleSeeder>();
        services.AddHostedService<EvaluationWorker>();
        services.AddHostedService<Monitor.WarningService.Probes.ProbeEvaluationWorker>();
        // It ends the alerts of retired targets in MySQL: after the migrations, like the other workers.
        services.AddHostedService(sp => sp.GetRequiredService<Monitor.WarningService.Probes.ProbeTargetDirectory>());
        services.AddHostedService<NotificationDispatcher>();
        services.AddHostedService<ElectedEvaluator>();
        services.AddSingleton<DeletedHosts>();
        services.AddHostedService<HostDeletionWatcher>();
        return builder;
    }

    public static WebApplication MapWarningService(this WebApplication app)
    {
        app.MapWarningApi();
        app.MapOpenApi("/api/v1/warning/openapi/{documentName}.json")
            .WithMetadata(new Monitor.ServiceDefaults.Auth.RequireRoleAttribute(Monitor.ServiceDefaults.Auth.MonitorRole.Anonymous));
        app.MapLegacyRuleApi();
        app.MapGrpcService<WarningGrpcService>();
        return app;
    }

    /// <summary>MySQL unavailable: retry for as long as it takes; the consumer does not move on meanwhile.</summary>
    internal static void ConfigureStatePersist(ResiliencePipelineBuilder builder, Polly.DependencyInjection.AddResiliencePipelineContext<string> context) =>
        builder.AddRetry(new RetryStrategyOptions
        {
            MaxRetryAttempts = int.MaxValue,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromMilliseconds(200),
            MaxDelay = TimeSpan.FromSeconds(5),
            ShouldHandle = new PredicateBuilder().Handle<MySqlException>().Handle<DbUpdateException>().Handle<TimeoutException>()
                .Handle<InvalidOperationException>(ex => ex.InnerException is MySqlException),
        });

    /// <summary>Transient send failures (5xx, 408, 429, network, SMTP 4xx, attempt timeout) are retried with exponential backoff.</summary>
    internal static void ConfigureNotificationSend(ResiliencePipelineBuilder builder, Polly.DependencyInjection.AddResiliencePipelineContext<string> context)
    {
        var options = context.ServiceProvider.GetRequiredService<IOptions<WarningOptions>>().Value;
        if (options.SendRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = options.SendRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.SendRetryInitialDelay,
                ShouldHandle = new PredicateBuilder().Handle<ChannelSendException>(ex => ex.Transient).Handle<Polly.Timeout.TimeoutRejectedException>(),
            });
        }
        builder.AddTimeout(options.SendTimeout);
    }
}

/// <summary>Keys of the named resilience pipelines.</summary>
internal static class ResiliencePipelines
{
    public const string StatePersist = "warning-state-persist";
    public const string NotificationSend = "warning-notification-send";
}
