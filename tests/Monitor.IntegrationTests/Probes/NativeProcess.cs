using System.Diagnostics;
using System.Text;

namespace Monitor.IntegrationTests.Probes;

/// <summary>Runs the Debian server binaries the probe tests need (as a given user when asked), and signals them.</summary>
internal static class NativeProcess
{
    /// <summary>Runs a command to completion; throws with its output when it fails.</summary>
    public static async Task<string> RunAsync(string file, IEnumerable<string> args, string? asUser = null, TimeSpan? timeout = null)
    {
        var (code, output) = await TryRunAsync(file, args, asUser, timeout);
        if (code != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited with {code}: {output}");
        }
        return output;
    }

    public static async Task<(int Code, string Output)> TryRunAsync(string file, IEnumerable<string> args, string? asUser = null, TimeSpan? timeout = null)
    {
        var psi = Create(file, args, asUser);
        using var process = Process.Start(psi)!;
        process.StandardInput.Close();
        var output = new StringBuilder();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in time");
        }
        output.Append(await stdout).Append(await stderr);
        return (process.ExitCode, output.ToString());
    }

    /// <summary>Starts a long-running server with its output appended to <paramref name="logPath"/>; stdin closed.</summary>
    public static Process Start(string file, IEnumerable<string> args, string logPath)
    {
        var psi = Create(file, args, null);
        var process = Process.Start(psi)!;
        process.StandardInput.Close();
        var log = new StreamWriter(logPath, append: true) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (log) { log.WriteLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (log) { log.WriteLine(e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Sends a signal (e.g. STOP, CONT, KILL) to a process id.</summary>
    public static Task SignalAsync(int pid, string signal) => RunAsync("kill", ["-" + signal, pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);

    /// <summary>Stops a server started with <see cref="Start"/>: continue it (if stopped), then kill it and wait.</summary>
    public static async Task KillAsync(Process process)
    {
        if (process.HasExited)
        {
            return;
        }
        await TryRunAsync("kill", ["-CONT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        try
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    /// <summary>A loopback port that is free together with port + <paramref name="alsoOffset"/> (Redis Cluster's bus port).</summary>
    public static int FreePort(int alsoOffset = 0)
    {
        for (int i = 0; i < 100; i++)
        {
            var port = Monitor.TestUtilities.Ports.Free();
            if (alsoOffset == 0)
            {
                return port;
            }
            if (port + alsoOffset < 65000 && IsFree(port + alsoOffset))
            {
                return port;
            }
        }
        throw new InvalidOperationException("no free port pair");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
            l.Start();
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    private static ProcessStartInfo Create(string file, IEnumerable<string> args, string? asUser)
    {
        var psi = new ProcessStartInfo(asUser is null ? file : "runuser")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        if (asUser is not null)
        {
            psi.ArgumentList.Add("-u");
            psi.ArgumentList.Add(asUser);
            psi.ArgumentList.Add("--");
            psi.ArgumentList.Add(file);
        }
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        return psi;
    }
}
