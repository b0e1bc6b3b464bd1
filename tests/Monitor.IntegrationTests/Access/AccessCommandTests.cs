using System.Security.Cryptography;
using System.Text;
using Monitor.IntegrationTests.Manage;
using Monitor.TestUtilities;
using MySqlConnector;
using Xunit;

namespace Monitor.IntegrationTests.Access;

/// <summary>
/// The manage service's access commands (docs/access.md) run as a real process against MariaDB: commands chained with
/// <c>--then</c> run in one process, in order, one token per line (run.sh creates its two tokens this way), and a chain
/// with a bad command is refused before anything is created.
/// </summary>
public sealed class AccessCommandTests : IAsyncLifetime
{
    private readonly string _database = "monitor_test_" + Guid.NewGuid().ToString("N")[..12];

    private string ConnectionString => new MySqlConnectionStringBuilder(StackEnvironment.MariaDb) { Database = _database }.ConnectionString;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    private Task<(int ExitCode, string Stdout, string Stderr)> RunManageAsync(CancellationToken ct, params string[] args) =>
        ManageCommand.RunAsync(ConnectionString, new Dictionary<string, string>
        {
            ["Logging__LogLevel__Default"] = "Warning",
            ["Auth__Enabled"] = "true",
            ["Auth__BootstrapAdmin__Name"] = "admin",
            ["Auth__BootstrapAdmin__Password"] = "access-command-test-" + Guid.NewGuid().ToString("N"),
        }, ct, args);

    private async Task<List<(string Name, string Kind, string Role, string Hash)>> TokensAsync(CancellationToken ct)
    {
        await using var connection = new MySqlConnection(ConnectionString);
        await connection.OpenAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT name, kind, role, hash FROM access_tokens ORDER BY id";
        await using var reader = await command.ExecuteReaderAsync(ct);
        var rows = new List<(string, string, string, string)>();
        while (await reader.ReadAsync(ct))
        {
            rows.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3)));
        }
        return rows;
    }

    private async Task<bool> DatabaseExistsAsync(CancellationToken ct)
    {
        await using var connection = new MySqlConnection(StackEnvironment.MariaDb);
        await connection.OpenAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = @name";
        command.Parameters.AddWithValue("@name", _database);
        return Convert.ToInt64(await command.ExecuteScalarAsync(ct)) > 0;
    }

    private static string Sha256Hex(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    [Fact]
    public async Task ChainedCommands_OneProcess_PrintOneTokenPerLineInOrder_AndStoreBoth()
    {
        // Arrange
        var ct = TestContext.Current.CancellationToken;

        // Act: the chain run.sh uses, against a database that does not exist yet.
        var (exit, stdout, stderr) = await RunManageAsync(ct,
            "create-token", "--name", "svc", "--role", "viewer", "--then", "create-agent-token", "--name", "fleet");

        // Assert: exit 0, exactly two lines on stdout (API token, then agent token), both stored with their kind and role.
        Assert.True(exit == 0, $"the chain exited with {exit}:\n{stdout}\n{stderr}");
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(2, lines.Length);
        Assert.Matches("^mon_[A-Za-z0-9_-]{43}$", lines[0]);
        Assert.Matches("^mona_[A-Za-z0-9_-]{43}$", lines[1]);
        var tokens = await TokensAsync(ct);
        Assert.Equal(2, tokens.Count);
        Assert.Equal(("svc", "api", "viewer", Sha256Hex(lines[0])), tokens[0]);
        Assert.Equal("fleet", tokens[1].Name);
        Assert.Equal("agent", tokens[1].Kind);
        Assert.Equal(Sha256Hex(lines[1]), tokens[1].Hash);
    }

    [Fact]
    public async Task Chain_WithAnUnknownCommand_IsRefusedBeforeAnythingIsCreated()
    {
        // Arrange
        var ct = TestContext.Current.CancellationToken;

        // Act
        var (exit, stdout, stderr) = await RunManageAsync(ct,
            "create-token", "--name", "svc", "--role", "viewer", "--then", "drop-everything", "--name", "x");

        // Assert: usage error (2) naming the bad command, no token printed, and the database was never even created.
        Assert.True(exit == 2, $"expected exit 2, got {exit}:\n{stdout}\n{stderr}");
        Assert.Contains("'drop-everything'", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("mon_", stdout, StringComparison.Ordinal);
        Assert.False(await DatabaseExistsAsync(ct), "the refused chain must not have touched the database");
    }

    public async ValueTask DisposeAsync()
    {
        await TestDatabases.DropAsync(_database);
    }
}
