using Monitor.TestUtilities;
using MySqlConnector;
using Xunit;

namespace Monitor.IntegrationTests.Manage;

/// <summary>
/// The documented migration command (docs/manage.md): <c>dotnet Monitor.ManageService.dll --migrate</c> against a
/// database that does not exist yet creates it with the schema and exits 0; run again, it changes nothing.
/// </summary>
public sealed class MigrateCommandTests : IAsyncLifetime
{
    private readonly string _database = "monitor_test_" + Guid.NewGuid().ToString("N")[..12];

    private string ConnectionString => new MySqlConnectionStringBuilder(StackEnvironment.MariaDb) { Database = _database }.ConnectionString;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    private async Task<(int ExitCode, string Output)> RunMigrateAsync(CancellationToken ct)
    {
        var (exitCode, stdout, stderr) = await ManageCommand.RunAsync(ConnectionString, new Dictionary<string, string>
        {
            // Whatever the configuration says, --migrate must not depend on start-up migrations being on.
            ["Manage__ApplyMigrationsOnStartup"] = "false",
            ["Auth__Enabled"] = "false",
        }, ct, "--migrate");
        return (exitCode, stdout + stderr);
    }

    private async Task<List<string>> QueryAsync(string sql, CancellationToken ct)
    {
        await using var connection = new MySqlConnection(ConnectionString);
        await connection.OpenAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync(ct);
        var rows = new List<string>();
        while (await reader.ReadAsync(ct))
        {
            rows.Add(reader.GetString(0));
        }
        return rows;
    }

    [Fact]
    public async Task Migrate_FreshDatabase_CreatesSchemaAndExits0_SecondRunIsNoOp()
    {
        // Arrange
        var ct = TestContext.Current.CancellationToken;
        var tables = $"SELECT table_name FROM information_schema.tables WHERE table_schema = '{_database}' ORDER BY table_name";

        // Act 1
        var (exit1, output1) = await RunMigrateAsync(ct);

        // Assert 1: the process ends by itself with 0 and the schema is there.
        Assert.True(exit1 == 0, $"--migrate exited with {exit1}:\n{output1}");
        var created = await QueryAsync(tables, ct);
        Assert.Contains("hosts", created);
        Assert.Contains("__EFMigrationsHistory", created);
        Assert.Contains("probe_targets", created);
        Assert.Contains("__probe_migrations", created);
        var history = await QueryAsync("SELECT MigrationId FROM __EFMigrationsHistory ORDER BY MigrationId", ct);
        Assert.Contains(history, m => m.EndsWith("_InitialCreate", StringComparison.Ordinal));
        Assert.NotEmpty(await QueryAsync("SELECT MigrationId FROM __probe_migrations", ct));
        Assert.Empty(await QueryAsync("SELECT host_id FROM hosts", ct));

        // Act 2
        var (exit2, output2) = await RunMigrateAsync(ct);

        // Assert 2: nothing changed, and the service says so.
        Assert.True(exit2 == 0, $"second --migrate exited with {exit2}:\n{output2}");
        Assert.Equal(created, await QueryAsync(tables, ct));
        Assert.Equal(history, await QueryAsync("SELECT MigrationId FROM __EFMigrationsHistory ORDER BY MigrationId", ct));
        Assert.Contains("The manage database schema is up to date", output2, StringComparison.Ordinal);
        Assert.DoesNotContain("Applying", output2, StringComparison.Ordinal);
    }

    public async ValueTask DisposeAsync()
    {
        await TestDatabases.DropAsync(_database);
    }
}
