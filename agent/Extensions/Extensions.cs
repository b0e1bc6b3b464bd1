using Microsoft.Extensions.Options;
using Monitor.Agent;
using Monitor.Agent.Collectors;
using Monitor.Agent.Options;
using Monitor.Agent.Sending;

namespace Microsoft.Extensions.Hosting;

internal static class AgentExtensions
{
    public static IHostApplicationBuilder AddAgent(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptionsWithValidateOnStart<AgentOptions, AgentOptionsValidator>().BindConfiguration(AgentOptions.SectionName);
        services.AddSingleton<IValidateOptions<AgentOptions>, AgentOptionsAddressValidator>();
        services.AddSingleton<IFileSystem, PhysicalFileSystem>();
        services.AddSingleton<HostCollector>();
        services.AddSingleton(sp => new PendingBatches(sp.GetRequiredService<IOptions<AgentOptions>>().Value.MaxPendingBatches));
        services.AddSingleton<AckLedger>();
        // Hosted services stop in reverse order: sampling stops first, then the sender drains.
        services.AddHostedService<ReportSender>();
        services.AddHostedService<SamplingWorker>();
        return builder;
    }
}
