using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using Monitor.Agent.Discovery;
using Monitor.Agent.Options;
using Monitor.Agent.Sending;
using Monitor.Prober.Options;
using Monitor.Prober.Probes;
using Monitor.Prober.Scheduling;
using Monitor.Prober.Targets;

namespace Microsoft.Extensions.Hosting;

internal static class ProberExtensions
{
    /// <summary>
    /// The prober's wiring: the agent's configuration sources and logging, the agent's sending path
    /// (spool, ack ledger, etcd discovery, report sender; settings under <c>Agent</c>), and the
    /// probe scheduler fed by the target store; the prober's own spool and runtime figures every <c>Agent:Interval</c>.
    /// </summary>
    public static IHostApplicationBuilder AddProber(this IHostApplicationBuilder builder, string[] args)
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
        services.AddOptionsWithValidateOnStart<ProberOptions, ProberOptionsValidator>().BindConfiguration(ProberOptions.SectionName);
        services.AddOptions<AgentCredentialsOptions>().BindConfiguration(AgentOptions.SectionName);
        services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(15));

        services.AddSingleton<AgentStatus>();
        services.AddSingleton<Spool>();
        services.AddSingleton<AckLedger>();
        services.AddSingleton<ReportEndpoints>();
        services.AddSingleton<IProbeFactory, ProbeFactory>();
        services.AddSingleton<ProbeRunner>();
        services.AddSingleton<ResultEmitter>();
        services.AddSingleton(sp =>
        {
            var store = new TargetStore();
            store.Publish(TargetStore.StaticSource, StaticTargets.Read(builder.Configuration, sp.GetRequiredService<IOptions<ProberOptions>>().Value));
            return store;
        });

        // Hosted services stop in reverse order: probing stops first, then the sender drains.
        services.AddHostedService<EtcdDiscovery>();
        services.AddHostedService<ReportSender>();
        services.AddHostedService<ManageTargetSource>();
        services.AddHostedService<ProbeScheduler>();
        services.AddHostedService<SelfFiguresWorker>();
        return builder;
    }
}
