using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Monitor.Influx;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Monitor InfluxDB client.</summary>
public static class InfluxServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="InfluxOptions"/> (section <c>Influx</c>, validated at start-up) and the typed HTTP clients
    /// <see cref="InfluxWriter"/> and <see cref="InfluxQueryClient"/>, whose base address and timeout come from the
    /// options.
    /// </summary>
    /// <remarks>
    /// No resilience handler is attached to either client. The writer must fail fast and let its caller pause and
    /// retry the same batch; a service that wants retries for queries adds them itself, for example
    /// <c>services.AddHttpClient&lt;InfluxQueryClient&gt;().AddStandardResilienceHandler()</c>, after aligning its
    /// timeouts with <see cref="InfluxOptions.Timeout"/>.
    /// </remarks>
    /// <param name="services">The service collection.</param>
    /// <returns>The service collection, for chaining.</returns>
    public static IServiceCollection AddMonitorInflux(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);

        services.AddOptionsWithValidateOnStart<InfluxOptions, InfluxOptionsValidator>()
            .BindConfiguration(InfluxOptions.SectionName);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<InfluxOptions>, InfluxOptionsCustomValidator>());

        services.AddHttpClient<InfluxWriter>(ConfigureClient);
        services.AddHttpClient<InfluxQueryClient>(ConfigureClient);
        services.AddHealthChecks().AddCheck<InfluxHealthCheck>("influxdb", tags: ["ready"]);
        return services;
    }

    private static void ConfigureClient(IServiceProvider services, HttpClient client)
    {
        var options = services.GetRequiredService<IOptions<InfluxOptions>>().Value;
        client.BaseAddress = InfluxHttp.BaseAddress(options.Url);
        client.Timeout = options.Timeout;
    }
}
