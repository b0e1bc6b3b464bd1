using System.Diagnostics;
using Microsoft.Extensions.Options;
using Monitor.ServiceDefaults.Auth;
using Monitor.WarningService.Data;
using Monitor.WarningService.Notifications;
using Monitor.WarningService.Options;

namespace Monitor.WarningService.Api;

/// <summary>
/// Endpoints the web console needs beyond the rule/channel/alert API: <c>POST /api/v1/warning/channels/{name}/test</c>
/// sends one test message through a channel, now, and answers with the outcome (nothing is queued, retried or written
/// to the push log; the channel's URL, secret and password never appear in the answer).
/// </summary>
internal static class ConsoleEndpoints
{
    public static IEndpointRouteBuilder MapConsoleApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/warning/channels/{name}/test", async (string name, ChannelService channels, HttpChannelSender httpSender,
            EmailChannelSender emailSender, IOptions<WarningOptions> options, TimeProvider time, CancellationToken ct) =>
        {
            var channel = (await channels.ListAsync(ct).ConfigureAwait(false)).FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.Ordinal));
            if (channel is null)
            {
                return Results.Problem($"channel '{name}' not found", statusCode: StatusCodes.Status404NotFound, title: "Not found");
            }
            return Results.Ok(await SendTestAsync(channel, channel.Type == ChannelTypes.Email ? emailSender : httpSender, options.Value.SendTimeout, time, ct).ConfigureAwait(false));
        }).WithMetadata(new RequireRoleAttribute(MonitorRole.Admin));
        return app;
    }

    /// <summary>Renders a test alert with the channel's template and sends it once, within <paramref name="timeout"/>.</summary>
    internal static async Task<ChannelTestResult> SendTestAsync(ChannelEntity channel, IChannelSender sender, TimeSpan timeout, TimeProvider time, CancellationToken ct)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var alert = new AlertEntity
        {
            RuleName = "test notification from the Monitor console",
            HostId = "monitor-console",
            Metric = "test",
            Comparator = "gt",
            Severity = "info",
            State = "firing",
            WindowStartMs = now,
            WindowEndMs = now,
            FiredAtMs = now,
            ConsecutiveCount = 1,
            ConsecutiveNeeded = 1,
        };
        var message = MessageTemplates.Render(alert, "test", channel.Template);
        var started = Stopwatch.GetTimestamp();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        try
        {
            var reply = await sender.SendAsync(channel, message, sender.Payload(channel, message), cts.Token).ConfigureAwait(false);
            return new ChannelTestResult(channel.Name, NotificationStatuses.Sent, Scrub(reply, channel), 1, Elapsed(started), null);
        }
        catch (ChannelSendException ex)
        {
            return new ChannelTestResult(channel.Name, NotificationStatuses.Failed, Scrub(ex.Reply, channel), 1, Elapsed(started), Scrub(ex.Message, channel));
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException or MailKit.Net.Smtp.SmtpCommandException
            or MailKit.Net.Smtp.SmtpProtocolException or System.Net.Sockets.SocketException)
        {
            var timedOut = ex is OperationCanceledException && !ct.IsCancellationRequested;
            return new ChannelTestResult(channel.Name, NotificationStatuses.Failed, timedOut ? "timeout" : "", 1, Elapsed(started),
                timedOut ? $"no answer within {timeout.TotalSeconds:0.#} s" : Scrub(ex.Message, channel));
        }
    }

    /// <summary>Removes the channel's secrets (URL with its token, signing secret, SMTP password) from a text shown to users.</summary>
    internal static string Scrub(string text, ChannelEntity channel)
    {
        foreach (var secret in new[] { channel.Url, channel.Secret, channel.SmtpPassword })
        {
            if (!string.IsNullOrEmpty(secret))
            {
                text = text.Replace(secret, "***", StringComparison.Ordinal);
            }
        }
        return text.Length > 512 ? text[..512] : text;
    }

    private static long Elapsed(long started) => (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
}

/// <summary>Outcome of a test send: <c>sent</c> or <c>failed</c>, the HTTP status or SMTP reply, and the (scrubbed) error.</summary>
internal sealed record ChannelTestResult(string Channel, string Status, string Reply, int Attempts, long LatencyMs, string? Error);
