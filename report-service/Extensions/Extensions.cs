using Monitor.ReportService.Extensions;
using Monitor.ReportService.Grpc;
using Monitor.ReportService.Kafka;
using Monitor.ReportService.Options;
using Monitor.ReportService.Validation;

namespace Microsoft.Extensions.Hosting;

internal static class ReportServiceExtensions
{
    public static IHostApplicationBuilder AddReportService(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptionsWithValidateOnStart<ReportOptions, ReportOptionsValidator>().BindConfiguration(ReportOptions.SectionName);
        services.AddMonitorKafkaOptions();
        services.AddSingleton<ReportMetrics>();
        services.AddSingleton<BatchValidator>();
        services.AddSingleton<ISampleBatchPublisher, SampleBatchPublisher>();
        services.AddSingleton<BatchIngestor>();
        // Let in-flight Kafka deliveries finish and be acked before the producer is flushed.
        services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));
        return builder;
    }
}
