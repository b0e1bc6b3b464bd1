using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Monitor.TestUtilities;

/// <summary>
/// A Monitor service or agent running as a real child process (<c>dotnet X.dll</c>), with its output
/// in a log file, that a test can stop gracefully (SIGTERM) or kill (SIGKILL) mid-stream.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;

    private ServiceProcess(string name, Process process, StreamWriter log, string logPath)
    {
        Name = name;
        _process = process;
        _log = log;
        LogPath = logPath;
    }

    public string Name { get; }
    public string LogPath { get; }
    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;

    public static ServiceProcess Start(string name, string assemblyPath, IReadOnlyDictionary<string, string> environment, IEnumerable<string>? arguments = null)
    {
        var logDir = Path.Combine(Repo.Root, ".state", "test-logs");
        Directory.CreateDirectory(logDir);
        var logPath = Path.Combine(logDir, $"{name}-{Guid.NewGuid():N}"[..Math.Min(name.Length + 13, 60)] + ".log");
        var log = new StreamWriter(logPath, append: false, Encoding.UTF8) { AutoFlush = true };
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(assemblyPath)!,
        };
        psi.ArgumentList.Add(assemblyPath);
        foreach (var argument in arguments ?? [])
        {
            psi.ArgumentList.Add(argument);
        }
        psi.Environment["DOTNET_ENVIRONMENT"] = "Production";
        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        // Tests that are not about access control run without it; access tests pass Auth__Enabled=true.
        psi.Environment["Auth__Enabled"] = "false";
        // Services do not feed their own figures into whatever report service they find; self-observability tests pass SelfMetrics__Enabled=true.
        psi.Environment["SelfMetrics__Enabled"] = "false";
        foreach (var (key, value) in environment)
        {
            psi.Environment[key] = value;
        }
        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (log) { log.WriteLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (log) { log.WriteLine(e.Data); } } };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new ServiceProcess(name, process, log, logPath);
    }

    /// <summary>Polls an HTTP URL until it answers 2xx, failing early (with the log tail) if the process exits.</summary>
    public async Task WaitHealthyAsync(string url, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        await Poll.UntilAsync(async () =>
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited with code {_process.ExitCode} during start-up:\n{Tail()}");
            }
            using var response = await http.GetAsync(url, cancellationToken);
            return response.IsSuccessStatusCode;
        }, timeout, $"{Name} to answer {url}", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>SIGTERM: the host shuts down gracefully (flushes, commits, deregisters).</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        if (_process.HasExited)
        {
            return;
        }
        _ = kill(_process.Id, 15);
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
            throw new TimeoutException($"{Name} did not stop within {timeout} of SIGTERM:\n{Tail()}");
        }
    }

    /// <summary>SIGKILL: no chance to flush or commit anything.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
    }

    public string Tail(int lines = 40)
    {
        lock (_log)
        {
            _log.Flush();
        }
        using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var all = reader.ReadToEnd().Split('\n');
        return string.Join('\n', all.TakeLast(lines));
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync(TimeSpan.FromSeconds(15));
        }
        catch (TimeoutException)
        {
            // Already killed by StopAsync.
        }
        _process.Dispose();
        lock (_log)
        {
            _log.Dispose();
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
}
