using System.Diagnostics;
using System.Text.RegularExpressions;
using Monitor.TestUtilities;
using Xunit;

namespace Monitor.IntegrationTests.Deploy;

/// <summary>
/// The production compose file cannot run here (no container engine), so it is validated offline
/// with Debian's docker-compose 1.29 (installed by deploy/stack.sh) and every file it refers to must exist.
/// </summary>
public sealed class DeploymentFilesTests
{
    [Fact]
    public async Task ComposeFile_ValidatesOffline_AndEveryReferencedFileExists()
    {
        // Arrange
        var compose = Path.Combine(Repo.Root, "deploy", "docker-compose.yml");
        var psi = new ProcessStartInfo("docker-compose") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-f", compose, "config" })
        {
            psi.ArgumentList.Add(a);
        }
        psi.Environment["MONITOR_DB_ROOT_PASSWORD"] = "validation-only";
        psi.Environment["MONITOR_DB_PASSWORD"] = "validation-only";

        // Act
        using var process = Process.Start(psi)!;
        var output = await process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var errors = await process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);

        // Assert
        Assert.True(process.ExitCode == 0, $"docker-compose config failed: {errors}");
        foreach (var service in new[] { "kafka-1", "kafka-2", "kafka-3", "influxdb", "mysql", "etcd", "nginx", "report-0", "report-1", "report-2", "persistent-0", "persistent-1", "analyze", "warning", "manage" })
        {
            Assert.Contains($"\n  {service}:", output, StringComparison.Ordinal);
        }
        foreach (Match m in Regex.Matches(output, @"PROJECT: (\S+)"))
        {
            Assert.True(File.Exists(Path.Combine(Repo.Root, m.Groups[1].Value)), $"{m.Groups[1].Value} referenced by the compose file is missing");
        }
        foreach (Match m in Regex.Matches(File.ReadAllText(compose), @"(?:dockerfile: |- )(\./[^\s:,}]+|deploy/[^\s:,}]+)"))
        {
            var relative = m.Groups[1].Value;
            var path = relative.StartsWith("./", StringComparison.Ordinal) ? Path.Combine(Repo.Root, "deploy", relative[2..]) : Path.Combine(Repo.Root, relative);
            Assert.True(File.Exists(path), $"{relative} referenced by the compose file is missing");
        }
    }

    [Fact]
    public void SystemdUnits_StartExistingAssemblies()
    {
        // Arrange
        var units = Directory.GetFiles(Path.Combine(Repo.Root, "deploy", "systemd"), "*.service");

        // Assert: every service has a unit whose ExecStart names an assembly built from this repository.
        Assert.Equal(6, units.Length);
        foreach (var unit in units)
        {
            var exec = Regex.Match(File.ReadAllText(unit), @"ExecStart=/usr/bin/dotnet /opt/monitor/([^/]+)/(\S+)\.dll");
            Assert.True(exec.Success, $"{unit} has no dotnet ExecStart");
            var folder = exec.Groups[1].Value == "nginx-sync" ? "deploy/Monitor.NginxSync" : exec.Groups[1].Value;
            Assert.True(Directory.Exists(Path.Combine(Repo.Root, folder)), $"{unit}: {folder} does not exist");
        }
    }

    [Fact]
    public void RunSolutionFilter_CoversEveryRuntimeProject()
    {
        // Arrange: run.sh builds Monitor.Run.slnf, not the whole solution
        var solution = File.ReadAllText(Path.Combine(Repo.Root, "Monitor.sln"));
        var filter = File.ReadAllText(Path.Combine(Repo.Root, "Monitor.Run.slnf"));
        static IEnumerable<string> Projects(string text) =>
            Regex.Matches(text, @"""([^""]+\.csproj)""").Select(m => m.Groups[1].Value.Replace("\\\\", "/", StringComparison.Ordinal).Replace('\\', '/'));

        // Assert: every project outside tests/ and benchmarks/ is in the filter, the Kafka mock included (deploy/stack.sh
        // copies that build), except the prober, which run.sh does not start; and every entry exists
        var runtime = Projects(solution)
            .Where(p => !p.StartsWith("tests/", StringComparison.Ordinal) && !p.StartsWith("benchmarks/", StringComparison.Ordinal) && !p.StartsWith("agent/prober/", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).ToList();
        var filtered = Projects(filter).Order(StringComparer.Ordinal).ToList();
        Assert.NotEmpty(runtime);
        Assert.Equal(runtime, filtered);
        Assert.All(filtered, p => Assert.True(File.Exists(Path.Combine(Repo.Root, p)), $"{p} in Monitor.Run.slnf does not exist"));
        Assert.Contains("Monitor.Run.slnf", File.ReadAllText(Path.Combine(Repo.Root, "run.sh")), StringComparison.Ordinal);
    }
}
