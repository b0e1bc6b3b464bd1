using Grpc.Core;
using Grpc.Net.Client.Configuration;
using Microsoft.Extensions.Options;
using Monitor.AnalyzeService.Extensions;
using Monitor.AnalyzeService.Manage;
using Monitor.AnalyzeService.Options;
using Monitor.AnalyzeService.Query;
using Monitor.AnalyzeService.Rollups;
using Monitor.Influx;
using Monitor.Protos.V1;
using Monitor.ServiceDefaults.Discovery;

namespace Microsoft.Extensions.Hosting;

internal static class AnalyzeServiceExtensions
{
    public static IHostApplicationBuilder AddAnalyzeService(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptionsWithValidateOnStart<AnalyzeOptions, AnalyzeOptionsValidator>().BindConfiguration(AnalyzeOptions.SectionName);
        services.AddOptionsWithValidateOnStart<RetentionOptions, RetentionOptionsValidator>().BindConfiguration(RetentionOptions.SectionName);
        services.AddSingleton<IValidateOptions<RetentionOptions>, RetentionOptionsCustomValidator>();
        services.AddOptionsWithValidateOnStart<ManageClientOptions, ManageClientOptionsValidator>().BindConfiguration(ManageClientOptions.SectionName);
        services.AddMonitorInflux();

        services.AddSingleton<AnalyzeMetrics>();
        services.AddSingleton<IInfluxExecutor, InfluxExecutor>();
        services.AddSingleton<MetricCatalog>();
        services.AddSingleton<RollupCoverage>();
        services.AddSingleton<AnalyzeQueryService>();
        services.AddSingleton<IHostDirectory, ManageHostDirectory>();

        services.AddGrpcClient<ManageService.ManageServiceClient>((sp, o) => o.Address = sp.GetRequiredService<IOptions<ManageClientOptions>>().Value.Address)
            .ConfigureChannel(o => o.ServiceConfig = new ServiceConfig
            {
                MethodConfigs =
                {
                    new MethodConfig
                    {
                        Names = { MethodName.Default },
                        RetryPolicy = new RetryPolicy
                        {
                            MaxAttempts = 3,
                            InitialBackoff = TimeSpan.FromMilliseconds(100),
                            MaxBackoff = TimeSpan.FromSeconds(1),
                            BackoffMultiplier = 2,
                            RetryableStatusCodes = { StatusCode.Unavailable },
                        },
                    },
                },
            })
            .ConfigureChannel((sp, o) => DiscoveredChannel.Configure(sp.GetRequiredService<IOptions<ManageClientOptions>>().Value.Address, o))
            .AddMonitorServiceToken();

        // The rollup writers target their own retention policies, so each gets options of its own.
        services.AddHttpClient(nameof(RollupWriters));
        services.AddSingleton(sp =>
        {
            var influx = sp.GetRequiredService<IOptions<InfluxOptions>>().Value;
            var retention = sp.GetRequiredService<IOptions<RetentionOptions>>().Value;
            var factory = sp.GetRequiredService<IHttpClientFactory>();
            var logger = sp.GetRequiredService<ILogger<InfluxWriter>>();
            InfluxWriter Writer(string policy)
            {
                var client = factory.CreateClient(nameof(RollupWriters));
                client.Timeout = influx.Timeout;
                return new InfluxWriter(client, Microsoft.Extensions.Options.Options.Create(Copy(influx, policy)), logger);
            }
            return new RollupWriters(Writer(retention.Rollup1mPolicy), Writer(retention.Rollup1hPolicy));
        });
        services.AddHostedService<RollupWorker>();

        services.AddOpenApi(o => o.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "Monitor analyze API";
            document.Info.Description = "Range and aggregate queries over host metrics (new API under /api/v1/analyze, original API at /data and /location). See docs/analyze.md.";
            return Task.CompletedTask;
        }));
        return builder;
    }

    private static InfluxOptions Copy(InfluxOptions source, string retentionPolicy) => new()
    {
        Url = source.Url,
        Database = source.Database,
        RetentionPolicy = retentionPolicy,
        Username = source.Username,
        Password = source.Password,
        Token = source.Token,
        Timeout = source.Timeout,
        Gzip = source.Gzip,
        MaxBatchPoints = source.MaxBatchPoints,
    };
}
