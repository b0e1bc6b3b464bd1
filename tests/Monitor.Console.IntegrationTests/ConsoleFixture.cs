using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Playwright;
using Monitor.TestUtilities;
using MySqlConnector;
using Xunit;

[assembly: AssemblyFixture(typeof(Monitor.Console.IntegrationTests.ConsoleFixture))]

namespace Monitor.Console.IntegrationTests;

/// <summary>
/// The whole system on the real stack for the console: report, persistent, analyze, manage and warning services as
/// real processes (their own Kafka topic, InfluxDB and MariaDB databases, etcd prefix), a private nginx serving the
/// built console and proxying the APIs, metrics written through the pipeline by <see cref="SampleSender"/>, and a
/// headless system Chromium driven by Playwright. The manage service runs with access control on and a bootstrap
/// admin (random password); when the running build has no login API (<c>/auth/me</c> answers 404 instead of 401)
/// the console is used without signing in.
/// </summary>
public sealed class ConsoleFixture : IAsyncLifetime
{
    public const string Web1 = "web-1";
    public const string Web2 = "web-2";
    public const string Hot = "hot-1";
    public const string Editable = "edit-1";
    public const string Stray1 = "stray-1";
    public const string Stray2 = "stray-2";
    public const string AdminName = "console-admin";

    private readonly List<ServiceProcess> _processes = [];
    private readonly string _etcdPrefix = $"/monitor-test/console-{Guid.NewGuid():N}"[..32] + "/services";
    private readonly string _manageDb = "monitor_test_" + Guid.NewGuid().ToString("N")[..12];
    private readonly string _warningDb = "monitor_test_" + Guid.NewGuid().ToString("N")[..12];
    private readonly string _topic = KafkaTopics.NewName("monitor-console-samples");
    private readonly string _dlq = KafkaTopics.NewName("monitor-console-dlq");
    private InfluxTestDatabase? _influx;
    private ConsoleNginx? _nginx;
    private IPlaywright? _playwright;
    private CookieContainer _cookies = new();

    public string AdminPassword { get; } = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
    public string BaseUrl => _nginx!.Url;
    public SampleSender Sender { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;
    /// <summary>True when the manage service answers the login API (access control present and on).</summary>
    public bool AuthActive { get; private set; }
    /// <summary>An HTTP client for the APIs through nginx (signed in as the bootstrap admin when access control is on).</summary>
    public HttpClient Api { get; private set; } = null!;
    public long HotRuleId { get; private set; }
    public ConsoleNginx Nginx => _nginx!;

    /// <summary>Where screenshots go: MONITOR_CONSOLE_SCREENSHOTS (e.g. docs/screenshots), else .state/console-screenshots.</summary>
    public string ScreenshotDir { get; } = Path.GetFullPath(Environment.GetEnvironmentVariable("MONITOR_CONSOLE_SCREENSHOTS") is { Length: > 0 } d
        ? Path.IsPathRooted(d) ? d : Path.Combine(Repo.Root, d)
        : Path.Combine(Repo.Root, ".state", "console-screenshots"));

    public async ValueTask InitializeAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        var dist = await BuildConsoleAsync(ct);
        await KafkaTopics.CreateAsync(_topic, 4, ct);
        await KafkaTopics.CreateAsync(_dlq, 1, ct);
        _influx = await InfluxTestDatabase.CreateAsync(ct);

        string Url() => $"http://127.0.0.1:{Ports.Free()}";
        var (manageGrpc, manageHttp) = (Url(), Url());
        var manage = Start("manage", "manage-service", "Monitor.ManageService", new()
        {
            ["Service__GrpcUrl"] = manageGrpc,
            ["Service__HttpUrl"] = manageHttp,
            ["ConnectionStrings__Manage"] = Connection(_manageDb),
            ["Manage__ApplyMigrationsOnStartup"] = "true",
            ["Manage__Liveness__Interval"] = "00:00:02",
            ["Manage__Liveness__Intervals"] = "5",
            ["Manage__Liveness__RefreshInterval"] = "00:00:00.500",
            ["Manage__Liveness__LookBack"] = "01:00:00",
            ["Manage__HostDeletedEventPrefix"] = _etcdPrefix.Replace("/services", "/host-deleted", StringComparison.Ordinal),
            ["Auth__Enabled"] = "true",
            ["Auth__BootstrapAdmin__Name"] = AdminName,
            ["Auth__BootstrapAdmin__Password"] = AdminPassword,
        });
        var (reportGrpc, reportHttp) = (Url(), Url());
        var report = Start("report", "report-service", "Monitor.ReportService", new() { ["Service__GrpcUrl"] = reportGrpc, ["Service__HttpUrl"] = reportHttp });
        var persistentHttp = Url();
        var persistent = Start("persistent", "persistent-service", "Monitor.PersistentService", new()
        {
            ["Service__HttpUrl"] = persistentHttp,
            ["Persistence__GroupId"] = "monitor-console-persistent-" + Guid.NewGuid().ToString("N")[..8],
            ["Persistence__FlushInterval"] = "00:00:00.200",
            ["Kafka__Consumer__session.timeout.ms"] = "6000",
            ["Kafka__Consumer__heartbeat.interval.ms"] = "1000",
        });
        var (analyzeGrpc, analyzeHttp) = (Url(), Url());
        var (warningGrpc, warningHttp) = (Url(), Url());
        await manage.WaitHealthyAsync(manageHttp + "/health/ready", TimeSpan.FromSeconds(120), ct);
        _nginx = await ConsoleNginx.StartAsync(dist, HostPort(analyzeHttp), HostPort(manageHttp), HostPort(warningHttp), ct);
        Api = new HttpClient(new HttpClientHandler { CookieContainer = _cookies }) { BaseAddress = new Uri(BaseUrl), Timeout = TimeSpan.FromSeconds(30) };
        await DetectAuthAndSignInAsync(ct);
        TestContext.Current.SendDiagnosticMessage(AuthActive
            ? "console tests: access control is on; signing in as the bootstrap admin"
            : "console tests: this manage build has no login API (/auth/me is 404); the console is used without signing in");
        // With access control on, analyze and warning call the manage service's gRPC API with a viewer API token.
        var serviceToken = new Dictionary<string, string>();
        if (AuthActive)
        {
            var created = await SendAsync(HttpMethod.Post, "/api/v1/manage/tokens", new { name = "console-tests-services", role = "viewer" }, HttpStatusCode.Created, ct);
            serviceToken["Auth__ServiceToken"] = created.GetProperty("secret").GetString()!;
        }

        var analyze = Start("analyze", "analyze-service", "Monitor.AnalyzeService", new(serviceToken)
        {
            ["Service__GrpcUrl"] = analyzeGrpc,
            ["Service__HttpUrl"] = analyzeHttp,
            ["Manage__Address"] = manageGrpc,
            ["Retention__RollupInterval"] = "00:00:05",
        });
        var warning = Start("warning", "warning-service", "Monitor.WarningService", new(serviceToken)
        {
            ["Service__GrpcUrl"] = warningGrpc,
            ["Service__HttpUrl"] = warningHttp,
            ["ConnectionStrings__Warning"] = Connection(_warningDb),
            ["Manage__Address"] = manageGrpc,
            ["Manage__RefreshInterval"] = "00:00:02",
            ["Warning__GroupId"] = "monitor-console-warning-" + Guid.NewGuid().ToString("N")[..8],
            ["Warning__RuleRefreshInterval"] = "00:00:01",
            ["Warning__DispatchInterval"] = "00:00:00.200",
            ["Warning__SendRetryInitialDelay"] = "00:00:00.100",
            ["Warning__SendTimeout"] = "00:00:05",
            ["Warning__LeaderKey"] = _etcdPrefix.Replace("/services", "/warning-leader", StringComparison.Ordinal),
            ["Warning__LeaderLeaseTtl"] = "00:00:03",
            ["Kafka__Consumer__session.timeout.ms"] = "6000",
            ["Kafka__Consumer__heartbeat.interval.ms"] = "1000",
        });
        foreach (var (p, http) in new[] { (report, reportHttp), (persistent, persistentHttp), (analyze, analyzeHttp), (warning, warningHttp) })
        {
            await p.WaitHealthyAsync(http + "/health/ready", TimeSpan.FromSeconds(120), ct);
        }

        foreach (var (host, location) in new[] { (Web1, "dc1"), (Web2, "dc2"), (Hot, "dc1"), (Editable, "dc2") })
        {
            await SendAsync(HttpMethod.Post, "/api/v1/manage/hosts", new { hostId = host, location, description = "console test host" }, HttpStatusCode.Created, ct);
        }
        // A rule that the hot host breaches from its first live sample on: there is a firing alert to look at.
        var rule = await SendAsync(HttpMethod.Post, "/api/v1/warning/rules", new
        {
            name = "cpu high on hot-1",
            metric = "cpu_rate",
            scope = new { kind = "host", value = Hot },
            aggregation = "last",
            comparator = "gt",
            bands = new { warning = 70.0, critical = 90.0 },
            consecutiveBreaches = 2,
        }, HttpStatusCode.Created, ct);
        HotRuleId = rule.GetProperty("id").GetInt64();
        await Task.Delay(TimeSpan.FromSeconds(1.5), ct); // the warning service reloads rules every second

        Sender = new SampleSender(reportGrpc, [Web1, Web2, Hot, Editable, Stray1, Stray2]);
        Sender.SetCpu(Hot, 96.5);
        await Sender.Backfilled.WaitAsync(TimeSpan.FromSeconds(60), ct);

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Environment.GetEnvironmentVariable("MONITOR_CHROMIUM") is { Length: > 0 } c ? c : "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        });
        Assertions.SetDefaultExpectTimeout(45_000);
    }

    /// <summary>A new browser page (1440×900) on the console, signed in when access control is on.</summary>
    public async Task<IPage> NewPageAsync(bool signIn = true, string colorScheme = "light")
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = BaseUrl,
            ViewportSize = new ViewportSize { Width = 1440, Height = 900 },
            ColorScheme = colorScheme == "dark" ? ColorScheme.Dark : ColorScheme.Light,
            TimezoneId = "UTC",
        });
        // No request may leave for another host: fail the page if one is attempted.
        await context.RouteAsync(url => !url.StartsWith(BaseUrl, StringComparison.Ordinal) && !url.StartsWith("data:", StringComparison.Ordinal),
            route => throw new InvalidOperationException("the console requested a third-party URL: " + route.Request.Url));
        var page = await context.NewPageAsync();
        if (signIn && AuthActive)
        {
            await page.GotoAsync("/login?next=%2F");
            await page.FillAsync("input[name=username]", AdminName);
            await page.FillAsync("input[name=password]", AdminPassword);
            await page.ClickAsync("button[type=submit]");
            await page.WaitForURLAsync(BaseUrl + "/");
        }
        return page;
    }

    /// <summary>Saves a full-page screenshot as &lt;name&gt;.png in <see cref="ScreenshotDir"/>.</summary>
    public async Task ScreenshotAsync(IPage page, string name)
    {
        Directory.CreateDirectory(ScreenshotDir);
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDir, name + ".png"), FullPage = true });
    }

    public async Task<JsonElement> SendAsync(HttpMethod method, string path, object? body, HttpStatusCode expected, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }
        using var response = await Api.SendAsync(request, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        Assert.True(response.StatusCode == expected, $"{method} {path} answered {(int)response.StatusCode}, expected {(int)expected}: {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    private async Task DetectAuthAndSignInAsync(CancellationToken ct)
    {
        using var me = await Api.GetAsync("/api/v1/manage/auth/me", ct);
        if (me.StatusCode == HttpStatusCode.NotFound)
        {
            AuthActive = false;
            return;
        }
        Assert.True(me.StatusCode == HttpStatusCode.Unauthorized, $"/api/v1/manage/auth/me answered {(int)me.StatusCode} before signing in (expected 401, or 404 without access control)");
        AuthActive = true;
        using var login = await Api.PostAsJsonAsync("/api/v1/manage/auth/login", new { username = AdminName, password = AdminPassword }, ct);
        Assert.True(login.StatusCode == HttpStatusCode.NoContent, $"bootstrap admin login answered {(int)login.StatusCode}");
    }

    private static async Task<string> BuildConsoleAsync(CancellationToken ct)
    {
        var script = Path.Combine(Repo.Root, "console", "scripts", "ensure-deps.sh");
        var psi = new ProcessStartInfo("bash") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(script);
        psi.ArgumentList.Add("--build");
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync(ct);
        var stderr = p.StandardError.ReadToEndAsync(ct);
        await p.WaitForExitAsync(ct);
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"building the console failed ({p.ExitCode}): {await stdout}\n{await stderr}");
        }
        var dist = Path.Combine(Repo.Root, "console", "dist");
        Assert.True(File.Exists(Path.Combine(dist, "index.html")), "console/dist/index.html is missing after the build");
        return dist;
    }

    private ServiceProcess Start(string name, string folder, string assembly, Dictionary<string, string> extra)
    {
        extra.TryAdd("Service__InstanceId", $"console-{name}-{Guid.NewGuid():N}"[..24]);
        extra.TryAdd("Influx__Url", StackEnvironment.Influx);
        extra.TryAdd("Influx__Database", _influx!.Name);
        var p = ServiceProcess.Start("console-" + name, Repo.Assembly(folder, assembly), PipelineEnvironment.For(_topic, _dlq, _etcdPrefix, extra));
        _processes.Add(p);
        return p;
    }

    private static string HostPort(string url) => new Uri(url).Authority;

    private static string Connection(string database) => new MySqlConnectionStringBuilder(StackEnvironment.MariaDb) { Database = database }.ConnectionString;

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }
        _playwright?.Dispose();
        if (Sender is not null)
        {
            await Sender.DisposeAsync();
        }
        Api?.Dispose();
        if (_nginx is not null)
        {
            await _nginx.DisposeAsync();
        }
        foreach (var p in _processes)
        {
            await p.DisposeAsync();
        }
        if (_influx is not null)
        {
            await _influx.DisposeAsync();
        }
        try
        {
            await using var conn = new MySqlConnection(new MySqlConnectionStringBuilder(StackEnvironment.MariaDb) { Database = "" }.ConnectionString);
            await conn.OpenAsync();
            foreach (var db in new[] { _manageDb, _warningDb })
            {
                await using var cmd = new MySqlCommand($"DROP DATABASE IF EXISTS `{db}`", conn);
                await cmd.ExecuteNonQueryAsync();
            }
        }
        catch (MySqlException)
        {
        }
    }
}
