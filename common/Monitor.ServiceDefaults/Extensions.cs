using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Monitor.Diagnostics.Admin;
using Monitor.Diagnostics.Requests;
using Monitor.Diagnostics.SelfMetrics;
using Monitor.ServiceDefaults.Auth;
using Monitor.ServiceDefaults.Discovery;
using Monitor.ServiceDefaults.Hosting;
using Monitor.ServiceDefaults.Kafka;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>The defaults every Monitor process shares: logging, telemetry, health, options validation, discovery, auth.</summary>
public static class MonitorServiceDefaultsExtensions
{
    /// <summary>Liveness endpoint path.</summary>
    public const string LivePath = "/health/live";

    /// <summary>Readiness endpoint path.</summary>
    public const string ReadyPath = "/health/ready";

    /// <summary>
    /// Defaults for every process, worker or web: one-line UTC console logs, OpenTelemetry
    /// metrics and traces (OTLP only when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set),
    /// a "self" liveness check and <see cref="TimeProvider.System"/>.
    /// </summary>
    public static TBuilder AddMonitorDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.UseUtcTimestamp = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
        });
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddHealthChecks().AddCheck("self", () => HealthCheckResult.Healthy(), ["live"]);

        var otel = builder.Services.AddOpenTelemetry()
            .WithMetrics(m => m.AddMeter("Monitor.*", "System.Runtime").AddRuntimeInstrumentation())
            .WithTracing(t => t.AddSource("Monitor.*"));
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            otel.UseOtlpExporter();
        }
        return builder;
    }

    /// <summary>
    /// Defaults for a web service of kind <paramref name="kind"/>: Kestrel bound from section
    /// <c>Service</c> (gRPC port HTTP/2 only, HTTP port HTTP/1.1+2), gRPC with the auth
    /// interceptor and health service, Prometheus <c>/metrics</c>, problem details, and
    /// registration in etcd under a lease.
    /// </summary>
    public static WebApplicationBuilder AddMonitorWebDefaults(this WebApplicationBuilder builder, string kind)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddMonitorDefaults();
        var services = builder.Services;

        services.AddOptionsWithValidateOnStart<ServiceOptions, ServiceOptionsValidator>()
            .BindConfiguration(ServiceOptions.SectionName)
            .PostConfigure(o => o.Kind = string.IsNullOrEmpty(o.Kind) ? kind : o.Kind);
        services.AddSingleton<IValidateOptions<ServiceOptions>, ServiceOptionsUrlValidator>();
        services.AddOptionsWithValidateOnStart<EtcdOptions, EtcdOptionsValidator>().BindConfiguration(EtcdOptions.SectionName);
        // gRPC clients may address peers as etcd:///{kind} (see EtcdResolverFactory).
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Grpc.Net.Client.Balancer.ResolverFactory, EtcdResolverFactory>());
        services.AddHostedService<EtcdRegistrationService>();

        builder.WebHost.ConfigureKestrel((_, kestrel) =>
        {
            var options = kestrel.ApplicationServices.GetRequiredService<IOptions<ServiceOptions>>().Value;
            // Cleartext HTTP/2 needs prior knowledge, which browsers and nginx's proxy_pass do not use: HTTP/1.1 only.
            // Over TLS, ALPN negotiates HTTP/2 as well.
            var certificate = LoadCertificate(options);
            Listen(kestrel, options.HttpUrl, HttpProtocols.Http1, certificate);
            if (!string.IsNullOrEmpty(options.GrpcUrl))
            {
                Listen(kestrel, options.GrpcUrl, HttpProtocols.Http2, certificate);
            }
            if (!string.IsNullOrEmpty(options.AdminUrl))
            {
                Listen(kestrel, options.AdminUrl, HttpProtocols.Http1, certificate);
            }
        });

        services.AddOptionsWithValidateOnStart<AuthOptions, AuthOptionsValidator>().BindConfiguration(AuthOptions.SectionName);
        services.AddHttpClient(nameof(ManageCredentialValidator), c => c.Timeout = TimeSpan.FromSeconds(5));
        services.TryAddSingleton<ManageCredentialValidator>();
        services.TryAddSingleton<ICredentialValidator>(sp => sp.GetRequiredService<ManageCredentialValidator>());
        services.TryAddSingleton<CachingAuthenticator>();
        services.TryAddSingleton<IMonitorAuthenticator>(sp => sp.GetRequiredService<IOptions<AuthOptions>>().Value.Enabled
            ? sp.GetRequiredService<CachingAuthenticator>()
            : new AllowAnonymousAuthenticator());
        services.TryAddSingleton<AuthRevocationPublisher>();
        services.AddHostedService<AuthRevocationWatcher>();
        services.AddSingleton<MonitorAuthorizer>();
        services.AddSingleton<MonitorAuthInterceptor>();
        // Request statistics and admin-port diagnostics (docs/observability.md); the statistics interceptor goes first so it sees refused calls too.
        services.AddMonitorDiagnostics();
        services.AddOptions<SelfMetricsOptions>().Configure<IOptions<ServiceOptions>>((o, s) => (o.Kind, o.Instance) = (s.Value.Kind, s.Value.EffectiveInstanceId));
        services.AddSingleton<IReportTargets, EtcdReportTargets>();
        services.AddGrpc(o =>
        {
            o.Interceptors.Add<RequestStatisticsInterceptor>();
            o.Interceptors.Add<MonitorAuthInterceptor>();
            o.EnableDetailedErrors = builder.Environment.IsDevelopment();
        });
        services.AddGrpcHealthChecks();
        services.AddProblemDetails();
        services.AddOpenTelemetry()
            .WithMetrics(m => m.AddAspNetCoreInstrumentation().AddPrometheusExporter())
            .WithTracing(t => t.AddAspNetCoreInstrumentation());
        return builder;
    }

    /// <summary>Registers <see cref="KafkaOptions"/> (section <c>Kafka</c>) with start-up validation, and a Kafka readiness check.</summary>
    public static IServiceCollection AddMonitorKafkaOptions(this IServiceCollection services)
    {
        services.AddOptionsWithValidateOnStart<KafkaOptions, KafkaOptionsValidator>().BindConfiguration(KafkaOptions.SectionName);
        services.TryAddSingleton<KafkaHealthCheck>();
        services.AddHealthChecks().AddCheck<KafkaHealthCheck>("kafka", tags: ["ready"]);
        return services;
    }

    /// <summary>Maps health (<c>/health/live</c>, <c>/health/ready</c>), gRPC health, <c>/metrics</c>, and installs the auth middleware.</summary>
    public static WebApplication MapMonitorDefaultEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseRouting();
        app.UseMonitorRequestStatistics();
        app.UseMiddleware<MonitorAuthMiddleware>();
        var anonymous = new RequireRoleAttribute(MonitorRole.Anonymous);
        app.MapHealthChecks(LivePath, new HealthCheckOptions { Predicate = r => r.Tags.Contains("live") }).WithMetadata(anonymous);
        app.MapHealthChecks(ReadyPath).WithMetadata(anonymous);
        app.MapGrpcHealthChecksService().WithMetadata(anonymous);
        app.MapPrometheusScrapingEndpoint().WithMetadata(anonymous);
        var service = app.Services.GetRequiredService<IOptions<ServiceOptions>>().Value;
        app.MapRequestStatistics(service.Kind, service.EffectiveInstanceId).WithMetadata(new RequireRoleAttribute(MonitorRole.Viewer));
        app.MapSelfMetrics(service.Kind).WithMetadata(new RequireRoleAttribute(MonitorRole.Viewer));
        if (!string.IsNullOrEmpty(service.AdminUrl))
        {
            // The diagnostics check their own admin token (Diagnostics:Token), separate from user credentials.
            app.MapMonitorAdminDiagnostics(service.AdminUrl).WithMetadata(anonymous);
        }
        return app;
    }

    private static X509Certificate2? LoadCertificate(ServiceOptions options)
    {
        if (string.IsNullOrEmpty(options.TlsCertificatePath))
        {
            return null;
        }
        using var pem = X509Certificate2.CreateFromPemFile(options.TlsCertificatePath, options.TlsKeyPath);
        // Re-import so that the private key is usable by SslStream on every platform.
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }

    private static void Listen(KestrelServerOptions kestrel, string url, HttpProtocols protocols, X509Certificate2? certificate)
    {
        var uri = new Uri(url);
        var tls = uri.Scheme == Uri.UriSchemeHttps;
        if (tls && certificate is null)
        {
            throw new InvalidOperationException($"{url} is https but Service:TlsCertificatePath is not set.");
        }
        Action<ListenOptions> configure = lo =>
        {
            lo.Protocols = tls && protocols == HttpProtocols.Http1 ? HttpProtocols.Http1AndHttp2 : protocols;
            if (tls)
            {
                lo.UseHttps(certificate!);
            }
        };
        if (uri.Host is "localhost")
        {
            kestrel.ListenLocalhost(uri.Port, configure);
        }
        else if (uri.Host is "*" or "+" or "0.0.0.0")
        {
            kestrel.ListenAnyIP(uri.Port, configure);
        }
        else
        {
            kestrel.Listen(IPAddress.Parse(uri.Host.Trim('[', ']')), uri.Port, configure);
        }
    }
}
