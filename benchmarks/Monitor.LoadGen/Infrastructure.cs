using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Monitor.LoadGen;

/// <summary>Endpoints of the local stack (from <c>.state/stack/endpoints.env</c>, sourced by run-ingest.sh) and repository paths.</summary>
internal sealed class StackEndpoints
{
    public required string Kafka { get; init; }
    public string? KafkaControl { get; init; }
    public required string Influx { get; init; }
    public string? Etcd { get; init; }
    public required string RepoRoot { get; init; }

    public static StackEndpoints FromEnvironment()
    {
        static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;
        var kafka = Env("Kafka__BootstrapServers") ?? Env("MONITOR_TEST_KAFKA")
            ?? throw new InvalidOperationException("Kafka__BootstrapServers is not set: run deploy/stack.sh up and source .state/stack/endpoints.env (benchmarks/run-ingest.sh does)");
        return new StackEndpoints
        {
            Kafka = kafka,
            KafkaControl = Env("MONITOR_TEST_KAFKA_CONTROL"),
            Influx = (Env("Influx__Url") ?? Env("MONITOR_TEST_INFLUX") ?? "http://127.0.0.1:8086").TrimEnd('/'),
            Etcd = Env("Etcd__Endpoints__0") ?? Env("MONITOR_TEST_ETCD"),
            RepoRoot = FindRepoRoot(),
        };
    }

    public string ServiceAssembly(string folder, string name)
    {
        var path = Path.Combine(RepoRoot, folder, "bin", "Release", "net10.0", name + ".dll");
        return File.Exists(path) ? path : throw new FileNotFoundException($"{path} is missing: build Release first (benchmarks/run-ingest.sh does)", path);
    }

    /// <summary>PID of a stack server from its pid file (for CPU accounting), or null.</summary>
    public int? StackPid(string server, string pidFile)
    {
        var path = Path.Combine(RepoRoot, ".state", "stack", server, pidFile);
        return File.Exists(path) && int.TryParse(File.ReadAllText(path).Trim(), CultureInfo.InvariantCulture, out var pid) ? pid : null;
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Monitor.sln")))
            {
                return dir.FullName;
            }
        }
        return Directory.GetCurrentDirectory();
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>A Monitor service as a child process (<c>dotnet X.dll</c>), output to a log file, stopped with SIGTERM.</summary>
internal sealed class ChildService : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly StringBuilder _recent = new();

    private ChildService(string name, Process process, StreamWriter log, string logPath, string httpUrl)
    {
        Name = name;
        _process = process;
        _log = log;
        LogPath = logPath;
        HttpUrl = httpUrl;
    }

    public string Name { get; }
    public string LogPath { get; }
    public string HttpUrl { get; }
    public string? GrpcUrl { get; private init; }
    public int Pid => _process.Id;

    public static ChildService Start(StackEndpoints stack, string name, string assembly, string httpUrl, string? grpcUrl, IReadOnlyDictionary<string, string> env)
    {
        var logDir = Path.Combine(stack.RepoRoot, ".state", "bench-logs");
        Directory.CreateDirectory(logDir);
        var logPath = Path.Combine(logDir, name + ".log");
        var log = new StreamWriter(logPath, append: false, Encoding.UTF8) { AutoFlush = true };
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(assembly)!,
        };
        psi.ArgumentList.Add(assembly);
        psi.Environment["DOTNET_ENVIRONMENT"] = "Production";
        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        psi.Environment["Service__HttpUrl"] = httpUrl;
        if (grpcUrl is not null)
        {
            psi.Environment["Service__GrpcUrl"] = grpcUrl;
        }
        foreach (var (key, value) in env)
        {
            psi.Environment[key] = value;
        }
        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var child = new ChildService(name, process, log, logPath, httpUrl) { GrpcUrl = grpcUrl };
        process.OutputDataReceived += (_, e) => child.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => child.OnLine(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_recent)
        {
            _log.WriteLine(line);
            _recent.AppendLine(line);
            if (_recent.Length > 256 * 1024)
            {
                _recent.Remove(0, 128 * 1024);
            }
        }
    }

    /// <summary>The most recent output (the last 128-256 KiB), for parsing log events such as partition assignment.</summary>
    public string RecentOutput()
    {
        lock (_recent)
        {
            return _recent.ToString();
        }
    }

    public async Task WaitReadyAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited with code {_process.ExitCode} during start-up; see {LogPath}");
            }
            try
            {
                using var response = await http.GetAsync(HttpUrl + "/health/ready", cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }
            await Task.Delay(200, cancellationToken);
        }
        throw new TimeoutException($"{Name} was not ready within {timeout}; see {LogPath}");
    }

    public async Task StopAsync(TimeSpan timeout)
    {
        if (_process.HasExited)
        {
            return;
        }
        _ = NativeMethods.kill(_process.Id, 15);
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(20));
        _process.Dispose();
        lock (_recent)
        {
            _log.Dispose();
        }
    }
}

internal static partial class NativeMethods
{
    [LibraryImport("libc", SetLastError = true)]
    internal static partial int kill(int pid, int sig);
}

/// <summary>CPU time of processes from <c>/proc/PID/stat</c> (utime + stime), for "where did the time go".</summary>
internal static class CpuTime
{
    private static readonly double TicksPerSecond = 100.0;

    public static TimeSpan Of(int pid)
    {
        if (pid == Environment.ProcessId)
        {
            return Process.GetCurrentProcess().TotalProcessorTime;
        }
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // The command name may contain spaces: fields start after the closing parenthesis.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            return TimeSpan.FromSeconds(ticks / TicksPerSecond);
        }
        catch (IOException)
        {
            return TimeSpan.Zero;
        }
    }
}

/// <summary>CPU seconds per named process group between two snapshots.</summary>
internal sealed class CpuMeter(IReadOnlyList<(string Name, int Pid)> processes)
{
    private readonly Dictionary<string, TimeSpan> _start = Snapshot(processes);
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    private static Dictionary<string, TimeSpan> Snapshot(IReadOnlyList<(string Name, int Pid)> processes)
    {
        var result = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
        foreach (var (name, pid) in processes)
        {
            result[name] = result.GetValueOrDefault(name) + CpuTime.Of(pid);
        }
        return result;
    }

    /// <summary>"name 1.23" (cores) per group, busiest first, and the total cores of all groups.</summary>
    public (string Text, double TotalCores) Measure()
    {
        var end = Snapshot(processes);
        var seconds = _clock.Elapsed.TotalSeconds;
        var groups = end
            .Select(kv => (kv.Key, Cores: (kv.Value - _start.GetValueOrDefault(kv.Key)).TotalSeconds / seconds))
            .OrderByDescending(x => x.Cores)
            .ToList();
        var text = string.Join(", ", groups.Select(x => string.Create(CultureInfo.InvariantCulture, $"{x.Key} {x.Cores:F2}")));
        return (text, groups.Sum(x => x.Cores));
    }
}

/// <summary>Reads counters from a service's Prometheus <c>/metrics</c> text.</summary>
internal static class PrometheusScrape
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };

    /// <summary>Sum of every series of <paramref name="metric"/> (exact name, any labels) over all <paramref name="httpUrls"/>.</summary>
    public static async Task<double> SumAsync(IEnumerable<string> httpUrls, string metric, CancellationToken cancellationToken)
    {
        double total = 0;
        foreach (var url in httpUrls)
        {
            var text = await Http.GetStringAsync(url + "/metrics", cancellationToken);
            total += Sum(text, metric);
        }
        return total;
    }

    public static double Sum(string text, string metric)
    {
        double total = 0;
        foreach (var raw in text.AsSpan().EnumerateLines())
        {
            var line = raw.Trim();
            if (line.IsEmpty || line[0] == '#' || !line.StartsWith(metric, StringComparison.Ordinal))
            {
                continue;
            }
            var rest = line[metric.Length..];
            if (!(rest.IsEmpty || rest[0] is '{' or ' '))
            {
                continue;
            }
            var valueStart = rest[0] == '{' ? rest.IndexOf("} ", StringComparison.Ordinal) + 2 : 1;
            var valueText = rest[valueStart..];
            var space = valueText.IndexOf(' ');
            if (space > 0)
            {
                valueText = valueText[..space];
            }
            if (double.TryParse(valueText, NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
            {
                total += v;
            }
        }
        return total;
    }
}

/// <summary>The run's own InfluxDB databases: create, count, query, drop (plain InfluxQL over HTTP).</summary>
internal sealed class InfluxAdmin(string url) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(60) };

    public async Task<JsonElement> QueryAsync(string database, string influxQl, CancellationToken cancellationToken)
    {
        using var content = new FormUrlEncodedContent([new("q", influxQl), new("db", database), new("epoch", "ms")]);
        using var response = await _http.PostAsync("/query", content, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode || body.Contains("\"error\"", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"InfluxQL failed ({(int)response.StatusCode}): {influxQl} -> {body}");
        }
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.Clone();
    }

    public Task CreateAsync(string database, CancellationToken cancellationToken) =>
        QueryAsync(database, $"CREATE DATABASE \"{database}\"", cancellationToken);

    public async Task DropAsync(string database)
    {
        try
        {
            await QueryAsync(database, $"DROP DATABASE \"{database}\"", CancellationToken.None);
        }
        catch (Exception ex) when (ex is HttpRequestException or InvalidOperationException or TaskCanceledException)
        {
            Console.Error.WriteLine($"warning: could not drop InfluxDB database {database}: {ex.Message}");
        }
    }

    /// <summary>Number of points in the database (sum of <c>count(value)</c> over every measurement).</summary>
    public async Task<long> CountPointsAsync(string database, CancellationToken cancellationToken)
    {
        var root = await QueryAsync(database, "SELECT count(\"value\") FROM /.*/", cancellationToken);
        long total = 0;
        foreach (var result in root.GetProperty("results").EnumerateArray())
        {
            if (!result.TryGetProperty("series", out var series))
            {
                continue;
            }
            foreach (var s in series.EnumerateArray())
            {
                foreach (var row in s.GetProperty("values").EnumerateArray())
                {
                    total += row[1].GetInt64();
                }
            }
        }
        return total;
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>Per-run Kafka topics through the mock's control endpoint (auto-creation would give only 4 partitions).</summary>
internal static class KafkaTopicControl
{
    public static async Task CreateAsync(StackEndpoints stack, string name, int partitions, CancellationToken cancellationToken)
    {
        if (stack.KafkaControl is null)
        {
            // A real broker: create it with the admin API.
            using var admin = new Confluent.Kafka.AdminClientBuilder(new Confluent.Kafka.AdminClientConfig { BootstrapServers = stack.Kafka }).Build();
            await admin.CreateTopicsAsync([new Confluent.Kafka.Admin.TopicSpecification { Name = name, NumPartitions = partitions, ReplicationFactor = 1 }]);
            return;
        }
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var response = await http.PostAsync(new Uri($"{stack.KafkaControl}/topics?name={Uri.EscapeDataString(name)}&partitions={partitions}"), null, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"creating topic {name} failed: {(int)response.StatusCode} {body}");
        }
    }
}
