using System.Diagnostics;
using Monitor.TestUtilities;

namespace Monitor.IntegrationTests.Manage;

/// <summary>
/// Runs the built manage service as a one-shot command (<c>dotnet Monitor.ManageService.dll ARGS</c>: <c>--migrate</c>,
/// the access commands) against the given database and waits for it to exit (at most 90 s, then it is killed).
/// </summary>
internal static class ManageCommand
{
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(
        string connectionString, IReadOnlyDictionary<string, string> environment, CancellationToken ct, params string[] args)
    {
        var assembly = Repo.Assembly("manage-service", "Monitor.ManageService");
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(assembly)!,
        };
        psi.ArgumentList.Add(assembly);
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }
        psi.Environment["DOTNET_ENVIRONMENT"] = "Production";
        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        psi.Environment["ConnectionStrings__Manage"] = connectionString;
        psi.Environment["SelfMetrics__Enabled"] = "false";
        psi.Environment["Influx__Url"] = StackEnvironment.Influx;
        psi.Environment["Etcd__Endpoints__0"] = StackEnvironment.Etcd;
        foreach (var (key, value) in environment)
        {
            psi.Environment[key] = value;
        }
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(90));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return (process.ExitCode, await stdout, await stderr);
    }
}
