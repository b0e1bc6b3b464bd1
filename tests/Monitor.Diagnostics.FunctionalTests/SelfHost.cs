using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Monitor.TestUtilities;

namespace Monitor.Diagnostics.FunctionalTests;

/// <summary>
/// A web service built with the real Monitor defaults (<c>AddMonitorWebDefaults</c> + <c>MapMonitorDefaultEndpoints</c>)
/// inside the test process, on real loopback ports: HTTP, gRPC and admin. Being in-process, the diagnostics look at the
/// test process itself, so a test can allocate a type and find it in the heap histogram.
/// </summary>
internal sealed class SelfHost : IAsyncDisposable
{
    public const string Kind = "selftest";

    private SelfHost(WebApplication app, string httpUrl, string grpcUrl, string adminUrl, int adminPort, string workDirectory)
    {
        App = app;
        HttpUrl = httpUrl;
        GrpcUrl = grpcUrl;
        AdminUrl = adminUrl;
        AdminPort = adminPort;
        WorkDirectory = workDirectory;
    }

    public WebApplication App { get; }
    public string HttpUrl { get; }
    public string GrpcUrl { get; }
    public string AdminUrl { get; }
    public int AdminPort { get; }
    public string WorkDirectory { get; }

    public static async Task<SelfHost> StartAsync(string? token, Action<WebApplication>? map = null, IDictionary<string, string?>? extra = null)
    {
        var httpUrl = $"http://127.0.0.1:{Ports.Free()}";
        var grpcUrl = $"http://127.0.0.1:{Ports.Free()}";
        var adminPort = Ports.Free();
        var adminUrl = $"http://127.0.0.1:{adminPort}";
        var work = Path.Combine(Path.GetTempPath(), "selfobs-test-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(work);
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production", ApplicationName = typeof(SelfHost).Assembly.GetName().Name });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Service:HttpUrl"] = httpUrl,
            ["Service:GrpcUrl"] = grpcUrl,
            ["Service:AdminUrl"] = adminUrl,
            ["Service:InstanceId"] = "selftest-1",
            ["Diagnostics:Token"] = token,
            ["Diagnostics:WorkDirectory"] = work,
            ["Auth:Enabled"] = "false",
        });
        if (extra is not null)
        {
            builder.Configuration.AddInMemoryCollection(extra);
        }
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.AddMonitorWebDefaults(Kind);
        var app = builder.Build();
        app.MapMonitorDefaultEndpoints();
        map?.Invoke(app);
        await app.StartAsync();
        return new SelfHost(app, httpUrl, grpcUrl, adminUrl, adminPort, work);
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
        try
        {
            Directory.Delete(WorkDirectory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
