using System.Net.Sockets;
using System.Security.Authentication;
using Npgsql;
using StackExchange.Redis;

namespace Monitor.Prober.Probes;

/// <summary>Maps exceptions of the client libraries to a <see cref="ProbeFailure"/> and a message without secrets.</summary>
internal static class ProbeErrors
{
    public static ProbeResult ToResult(Exception exception, List<ProbeMetric>? metrics = null) =>
        ProbeResult.Fail(Classify(exception), Describe(exception), metrics);

    public static ProbeFailure Classify(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case OperationCanceledException or TimeoutException or RedisTimeoutException:
                    return ProbeFailure.Timeout;
                case AuthenticationException:
                    return ProbeFailure.Tls;
                case PostgresException pg when pg.SqlState is "28P01" or "28000":
                    return ProbeFailure.Auth;
                case RedisServerException rs when rs.Message.Contains("NOAUTH", StringComparison.Ordinal) || rs.Message.Contains("WRONGPASS", StringComparison.Ordinal):
                    return ProbeFailure.Auth;
                case RedisConnectionException { FailureType: ConnectionFailureType.AuthenticationFailure }:
                    return ProbeFailure.Auth;
                case SocketException se:
                    return se.SocketErrorCode switch
                    {
                        SocketError.ConnectionRefused or SocketError.ConnectionReset or SocketError.ConnectionAborted => ProbeFailure.Refused,
                        SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData or SocketError.NoRecovery => ProbeFailure.Dns,
                        SocketError.TimedOut => ProbeFailure.Timeout,
                        _ => ProbeFailure.Error,
                    };
            }
        }
        return exception is RedisConnectionException rc && rc.Message.Contains("refused", StringComparison.OrdinalIgnoreCase)
            ? ProbeFailure.Refused
            : ProbeFailure.Error;
    }

    /// <summary>
    /// The innermost useful messages, joined. Library messages do not carry passwords (Npgsql and
    /// StackExchange.Redis print no credentials; connection strings are never part of our messages).
    /// </summary>
    public static string Describe(Exception exception)
    {
        var parts = new List<string>();
        for (var e = exception; e is not null && parts.Count < 3; e = e.InnerException)
        {
            var text = e.Message.Trim();
            if (text.Length > 0 && !parts.Any(p => p.Contains(text, StringComparison.Ordinal)))
            {
                parts.Add(text);
            }
        }
        return string.Join(": ", parts);
    }
}
