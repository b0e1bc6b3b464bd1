using Xunit;

namespace Monitor.IntegrationTests.Probes;

/// <summary>
/// A PostgreSQL 15 primary and a streaming standby (<c>pg_basebackup -R</c>) on 127.0.0.1, private
/// ports, data under a temp dir owned by the <c>postgres</c> user (initdb refuses root), run with
/// Debian's binaries through <c>runuser -u postgres</c>; stopped and deleted afterwards.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    public const string Bin = "/usr/lib/postgresql/15/bin";
    public const string Password = "probe-test-pw";

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "monitor-pg-" + Guid.NewGuid().ToString("N")[..8]);
    public int PrimaryPort { get; } = NativeProcess.FreePort();
    public int StandbyPort { get; } = NativeProcess.FreePort();
    private string PrimaryDir => Path.Combine(Root, "primary");
    private string StandbyDir => Path.Combine(Root, "standby");

    public async ValueTask InitializeAsync()
    {
        if (!File.Exists(Path.Combine(Bin, "initdb")))
        {
            throw new InvalidOperationException($"{Bin}/initdb is missing: install postgresql-15 (deploy/stack.sh up installs it)");
        }
        Directory.CreateDirectory(Root);
        var pwfile = Path.Combine(Root, "pw");
        await File.WriteAllTextAsync(pwfile, Password + "\n");
        await NativeProcess.RunAsync("chown", ["-R", "postgres:postgres", Root]);
        await NativeProcess.RunAsync("chmod", ["700", Root]);
        await NativeProcess.RunAsync(Path.Combine(Bin, "initdb"),
            ["-D", PrimaryDir, "-U", "postgres", "--pwfile", pwfile, "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-locale", "--no-sync"],
            asUser: "postgres");
        await StartAsync(PrimaryDir, PrimaryPort, "primary");
        await NativeProcess.RunAsync(Path.Combine(Bin, "pg_basebackup"),
            ["-D", StandbyDir, "-d", $"host=127.0.0.1 port={PrimaryPort} user=postgres password={Password}", "-R", "-X", "stream", "--no-sync"],
            asUser: "postgres");
        await StartAsync(StandbyDir, StandbyPort, "standby1");
    }

    public static string ConfigJson(int port, string password = Password) =>
        $$"""{"host":"127.0.0.1","port":{{port}},"username":"postgres","password":"{{password}}","slowQueryThresholdMs":500}""";

    public static string ConnectionString(int port) => $"Host=127.0.0.1;Port={port};Username=postgres;Password={Password};Database=postgres;Pooling=false";

    /// <summary>Stops the primary (fast shutdown), e.g. to make probes fail; the standby keeps running.</summary>
    public Task StopPrimaryAsync() =>
        NativeProcess.RunAsync(Path.Combine(Bin, "pg_ctl"), ["-D", PrimaryDir, "-m", "fast", "-w", "stop"], asUser: "postgres");

    /// <summary>Starts the primary again on the same port.</summary>
    public Task StartPrimaryAsync() => StartAsync(PrimaryDir, PrimaryPort, "primary");

    private Task<string> StartAsync(string dir, int port, string name) =>
        NativeProcess.RunAsync(Path.Combine(Bin, "pg_ctl"),
            ["-D", dir, "-l", Path.Combine(Root, name + ".log"), "-w", "-t", "60",
             "-o", $"-p {port} -k {Root} -c listen_addresses=127.0.0.1 -c wal_level=replica -c max_wal_senders=5 -c hot_standby=on -c cluster_name={name} -c fsync=off -c wal_retrieve_retry_interval=500ms",
             "start"],
            asUser: "postgres");

    public async ValueTask DisposeAsync()
    {
        foreach (var dir in new[] { StandbyDir, PrimaryDir })
        {
            if (Directory.Exists(dir))
            {
                await NativeProcess.TryRunAsync(Path.Combine(Bin, "pg_ctl"), ["-D", dir, "-m", "immediate", "-w", "stop"], asUser: "postgres");
            }
        }
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }
}
