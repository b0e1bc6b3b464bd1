using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using Monitor.Agent;
using Monitor.Agent.Collectors;
using Monitor.Agent.Discovery;
using Monitor.Agent.Options;
using Monitor.Agent.Sending;

namespace Microsoft.Extensions.Hosting;

internal static class AgentExtensions
{
    /// <summary>
    /// The agent's wiring. It does not use Monitor.ServiceDefaults (ASP.NET Core, OpenTelemetry): the
    /// agent is a NativeAOT binary that opens no port, so it sets up only what it needs on an empty
    /// builder: configuration from appsettings.json beside the executable (not watched for changes:
    /// no watcher thread), environment variables and the command line; one-line UTC console logs on
    /// stderr (stdout stays clean for <c>--once</c>); and <see cref="TimeProvider.System"/>.
    /// </summary>
    public static IHostApplicationBuilder AddAgent(this IHostApplicationBuilder builder, string[] args)
    {
        builder.Configuration
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true, reloadOnChange: false)
            .AddEnvironmentVariables()
            .AddCommandLine(args);
        builder.Logging.AddConfiguration(builder.Configuration.GetSection("Logging"));
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.UseUtcTimestamp = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
        });
        builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);

        var services = builder.Services;
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptionsWithValidateOnStart<AgentOptions, AgentOptionsValidator>().BindConfiguration(AgentOptions.SectionName);
        services.AddSingleton<IValidateOptions<AgentOptions>, AgentOptionsCustomValidator>();
        services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(15));

        services.AddSingleton<IFileSystem, PhysicalFileSystem>();
        services.AddSingleton<AgentStatus>();
        services.AddSingleton(sp => new HostCollector(
            CreateCollectors(sp),
            sp.GetRequiredService<IOptions<AgentOptions>>().Value.Labels,
            sp.GetRequiredService<IOptions<AgentOptions>>().Value.CollectorTimeout,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<HostCollector>>()));
        services.AddSingleton<Spool>();
        services.AddSingleton<AckLedger>();
        services.AddSingleton<ReportEndpoints>();

        // Hosted services stop in reverse order: sampling stops first, then the sender drains.
        services.AddHostedService<EtcdDiscovery>();
        services.AddHostedService<ReportSender>();
        services.AddHostedService<SamplingWorker>();
        return builder;
    }

    /// <summary>The collectors, in the order their samples appear in a batch.</summary>
    private static List<ICollector> CreateCollectors(IServiceProvider sp)
    {
        var fs = sp.GetRequiredService<IFileSystem>();
        var time = sp.GetRequiredService<TimeProvider>();
        var o = sp.GetRequiredService<IOptions<AgentOptions>>().Value;
        List<ICollector> all =
        [
            new CpuCollector(fs),
            new MemoryCollector(fs),
            new SystemCollector(fs),
            new DiskUsageCollector(fs, o.ExcludeFileSystemTypes.ToHashSet(StringComparer.Ordinal)),
            new DiskIoCollector(fs, time, o.ExcludeBlockDevices),
            new NetworkCollector(fs, time, o.ExcludeInterfaces),
            new TcpCollector(fs, time, o.TcpStatesMinInterval),
            new AgentCollector(sp.GetRequiredService<AgentStatus>()),
            new RuntimeCollector(RuntimeCollector.AgentComponent, time),
        ];
        return all.Where(c => !o.DisabledCollectors.Contains(c.Name, StringComparer.Ordinal)).ToList();
    }
}
