using System.Globalization;
using Npgsql;

namespace Monitor.Prober.Probes;

/// <summary>
/// PostgreSQL check: <c>SELECT 1</c>, version, connections (all client backends and active ones)
/// against max_connections, slow queries, and replication lag: on a primary per standby from
/// pg_stat_replication (label <c>replica</c> = its application_name), on a standby from its own
/// receive/replay positions. Lag columns need the <c>pg_monitor</c> role (or superuser).
/// Warnings (connections or lag over a threshold) go into the message; the run still succeeds.
/// </summary>
internal sealed class PostgresProbe(PostgresProbeConfig config, TimeSpan timeout) : IProbe
{
    private const string StatusSql = """
        SELECT current_setting('server_version'),
               current_setting('server_version_num')::int,
               current_setting('max_connections')::int,
               (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'),
               (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND state = 'active' AND pid <> pg_backend_pid()),
               (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND state = 'active' AND pid <> pg_backend_pid()
                    AND now() - query_start > make_interval(secs => @slow)),
               pg_is_in_recovery()
        """;

    private const string PrimaryLagSql = """
        SELECT coalesce(application_name, ''), coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), 0)::float8,
               coalesce(EXTRACT(EPOCH FROM replay_lag), 0)::float8
        FROM pg_stat_replication
        """;

    private const string StandbyLagSql = """
        SELECT coalesce(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()), 0)::float8,
               CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
                    ELSE coalesce(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END::float8,
               (SELECT count(*) FROM pg_stat_wal_receiver WHERE status = 'streaming')
        """;

    public async Task<ProbeResult> RunAsync(CancellationToken cancellationToken)
    {
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = config.Host,
            Port = config.Port,
            Database = config.Database,
            Username = config.Username,
            Password = config.Password.Length > 0 ? config.Password : null,
            Timeout = Math.Max(1, (int)Math.Ceiling(timeout.TotalSeconds)),
            CommandTimeout = Math.Max(1, (int)Math.Ceiling(timeout.TotalSeconds)),
            Pooling = false,
            ApplicationName = "monitor-prober",
        };
        var metrics = new List<ProbeMetric>();
        var warnings = new List<string>();
        try
        {
            await using var connection = new NpgsqlConnection(builder.ConnectionString);
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using (var ping = new NpgsqlCommand("SELECT 1", connection))
            {
                _ = await ping.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            }

            bool standby;
            await using (var status = new NpgsqlCommand(StatusSql, connection))
            {
                status.Parameters.AddWithValue("slow", config.SlowQueryThresholdMs / 1000.0);
                await using var r = await status.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await r.ReadAsync(cancellationToken).ConfigureAwait(false);
                var version = r.GetString(0);
                var versionNum = r.GetInt32(1);
                var max = r.GetInt32(2);
                var connections = r.GetInt64(3);
                var active = r.GetInt64(4);
                var slow = r.GetInt64(5);
                standby = r.GetBoolean(6);
                metrics.Add(new("probe_pg_version_num", versionNum));
                metrics.Add(new("probe_pg_connections", connections));
                metrics.Add(new("probe_pg_connections_active", active));
                metrics.Add(new("probe_pg_connections_max", max));
                metrics.Add(new("probe_pg_slow_queries", slow));
                metrics.Add(new("probe_pg_standby", standby ? 1 : 0));
                var percent = max > 0 ? 100.0 * connections / max : 0;
                if (percent > config.ConnectionsWarnPercent)
                {
                    warnings.Add(string.Create(CultureInfo.InvariantCulture, $"connections at {percent:0.#}% of max_connections ({connections}/{max})"));
                }
                if (slow > 0)
                {
                    warnings.Add($"{slow} quer{(slow == 1 ? "y" : "ies")} active longer than {config.SlowQueryThresholdMs} ms");
                }
                warnings.Insert(0, "PostgreSQL " + version);
            }

            if (standby)
            {
                await using var lag = new NpgsqlCommand(StandbyLagSql, connection);
                await using var r = await lag.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await r.ReadAsync(cancellationToken).ConfigureAwait(false);
                var bytes = r.GetDouble(0);
                var seconds = r.GetDouble(1);
                var streaming = r.GetInt64(2);
                metrics.Add(new("probe_pg_replication_lag_bytes", bytes));
                metrics.Add(new("probe_pg_replication_lag_seconds", seconds));
                metrics.Add(new("probe_pg_wal_receiver_streaming", streaming > 0 ? 1 : 0));
                if (streaming == 0)
                {
                    warnings.Add("standby is not streaming from its primary");
                }
                AddLagWarning(warnings, "standby", seconds);
            }
            else
            {
                await using var lag = new NpgsqlCommand(PrimaryLagSql, connection);
                await using var r = await lag.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                var replicas = 0;
                while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    var name = r.GetString(0);
                    var label = new Dictionary<string, string> { ["replica"] = name.Length == 0 ? "unnamed" : name[..Math.Min(name.Length, 128)] };
                    var seconds = r.GetDouble(2);
                    metrics.Add(new("probe_pg_replication_lag_bytes", r.GetDouble(1), label));
                    metrics.Add(new("probe_pg_replication_lag_seconds", seconds, label));
                    AddLagWarning(warnings, "replica " + name, seconds);
                    replicas++;
                }
                metrics.Add(new("probe_pg_replicas", replicas));
            }
            return ProbeResult.Ok(metrics, warnings);
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or IOException or TimeoutException)
        {
            return ProbeErrors.ToResult(ex, metrics);
        }
    }

    /// <summary>Replication lag above which a warning is added: 60 seconds.</summary>
    public const double ReplicationLagWarnSeconds = 60;

    private static void AddLagWarning(List<string> warnings, string who, double seconds)
    {
        if (seconds > ReplicationLagWarnSeconds)
        {
            warnings.Add(string.Create(CultureInfo.InvariantCulture, $"{who} lags {seconds:0.#} s"));
        }
    }
}
