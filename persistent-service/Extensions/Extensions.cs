using Monitor.PersistentService.Extensions;
using Monitor.PersistentService.Kafka;
using Monitor.PersistentService.Options;

namespace Microsoft.Extensions.Hosting;

internal static class PersistentServiceExtensions
{
    public static IHostApplicationBuilder AddPersistentService(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptionsWithValidateOnStart<PersistenceOptions, PersistenceOptionsValidator>().BindConfiguration(PersistenceOptions.SectionName);
        services.AddMonitorKafkaOptions();
        services.AddMonitorInflux();
        services.AddSingleton<PersistenceMetrics>();
        services.AddSingleton<DeadLetterPublisher>();
        services.AddHostedService<PersistenceWorker>();
        return builder;
    }
}
