using Monitor.TestUtilities;
using MySqlConnector;

namespace Monitor.IntegrationTests;

/// <summary>The MariaDB databases a fixture created for itself.</summary>
internal static class TestDatabases
{
    /// <summary>Drops them, best effort: a leftover test database is harmless.</summary>
    public static async Task DropAsync(params string[] databases)
    {
        try
        {
            await using var connection = new MySqlConnection(StackEnvironment.MariaDb);
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            foreach (var database in databases)
            {
                command.CommandText = $"DROP DATABASE IF EXISTS `{database}`";
                await command.ExecuteNonQueryAsync();
            }
        }
        catch (MySqlException)
        {
            // Best effort.
        }
    }
}
