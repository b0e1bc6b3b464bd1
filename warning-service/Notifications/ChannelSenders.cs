using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using Monitor.WarningService.Data;

namespace Monitor.WarningService.Notifications;

internal static class ChannelTypes
{
    public const string Webhook = "webhook";
    public const string WeCom = "wecom";
    public const string DingTalk = "dingtalk";
    public const string Email = "email";

    public static readonly string[] All = [Webhook, WeCom, DingTalk, Email];
}

/// <summary>A send failed. <see cref="Reply"/> is the HTTP status or SMTP reply; the message never contains a secret.</summary>
internal sealed class ChannelSendException(string message, string reply, bool transient) : Exception(message)
{
    public string Reply { get; } = reply;
    public bool Transient { get; } = transient;
}

/// <summary>One attempt of one send: builds the payload and delivers it; returns the reply (HTTP status or SMTP reply).</summary>
internal interface IChannelSender
{
    /// <summary>The payload as it will be sent, for the push log's digest.</summary>
    string Payload(ChannelEntity channel, RenderedMessage message);

    Task<string> SendAsync(ChannelEntity channel, RenderedMessage message, string payload, CancellationToken cancellationToken);
}

/// <summary>Generic JSON webhook, WeCom group robot (markdown) and DingTalk robot (markdown, HMAC-SHA256 signed).</summary>
internal sealed class HttpChannelSender(IHttpClientFactory httpClientFactory, TimeProvider timeProvider) : IChannelSender
{
    public const string ClientName = "notifications";

    public string Payload(ChannelEntity channel, RenderedMessage message) => channel.Type switch
    {
        ChannelTypes.WeCom => JsonSerializer.Serialize(new { msgtype = "markdown", markdown = new { content = message.Text } }),
        ChannelTypes.DingTalk => JsonSerializer.Serialize(new { msgtype = "markdown", markdown = new { title = message.Title, text = message.Text } }),
        _ => JsonSerializer.Serialize(new { title = message.Title, text = message.Text, alert = message.Fields, alerts = message.Alerts }),
    };

    public async Task<string> SendAsync(ChannelEntity channel, RenderedMessage message, string payload, CancellationToken cancellationToken)
    {
        var url = channel.Url ?? throw new ChannelSendException("channel has no URL", "", transient: false);
        if (channel.Type == ChannelTypes.DingTalk && !string.IsNullOrEmpty(channel.Secret))
        {
            url = DingTalkSigner.SignUrl(url, channel.Secret, timeProvider.GetUtcNow().ToUnixTimeMilliseconds());
        }
        var http = httpClientFactory.CreateClient(ClientName);
        using var content = new StringContent(payload, Encoding.UTF8, "application/json");
        HttpResponseMessage response;
        try
        {
            response = await http.PostAsync(new Uri(url), content, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            // HttpRequestException messages may name the host and port but not the path or query, where robot tokens live.
            throw new ChannelSendException($"request failed: {ex.HttpRequestError}", ex.HttpRequestError.ToString(), transient: true);
        }
        using (response)
        {
            var status = ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
            if (!response.IsSuccessStatusCode)
            {
                var transient = (int)response.StatusCode >= 500 || response.StatusCode is System.Net.HttpStatusCode.RequestTimeout or System.Net.HttpStatusCode.TooManyRequests;
                throw new ChannelSendException($"HTTP {status}", status, transient);
            }
            if (channel.Type is ChannelTypes.WeCom or ChannelTypes.DingTalk)
            {
                // Both robots answer 200 with {"errcode":N,"errmsg":".."}; anything but 0 is a failure.
                var body = await response.Content.ReadFromJsonAsync<RobotReply>(cancellationToken).ConfigureAwait(false);
                if (body is { Errcode: not 0 })
                {
                    throw new ChannelSendException($"robot errcode {body.Errcode}: {body.Errmsg}", $"{status} errcode {body.Errcode}", transient: false);
                }
            }
            return status;
        }
    }

    private sealed record RobotReply(int Errcode, string? Errmsg);
}

/// <summary>DingTalk's robot signature: <c>sign = urlencode(base64(HMAC-SHA256(secret, timestamp + "\n" + secret)))</c>.</summary>
internal static class DingTalkSigner
{
    public static string Sign(string secret, long timestampMs)
    {
        var data = Encoding.UTF8.GetBytes($"{timestampMs.ToString(CultureInfo.InvariantCulture)}\n{secret}");
        return Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), data));
    }

    public static string SignUrl(string url, string secret, long timestampMs)
    {
        var separator = url.Contains('?', StringComparison.Ordinal) ? '&' : '?';
        return $"{url}{separator}timestamp={timestampMs.ToString(CultureInfo.InvariantCulture)}&sign={Uri.EscapeDataString(Sign(secret, timestampMs))}";
    }
}

/// <summary>Email over SMTP (MailKit); STARTTLS when the channel asks for TLS.</summary>
internal sealed class EmailChannelSender : IChannelSender
{
    public string Payload(ChannelEntity channel, RenderedMessage message) => $"Subject: {message.Title}\n\n{message.Text}";

    public async Task<string> SendAsync(ChannelEntity channel, RenderedMessage message, string payload, CancellationToken cancellationToken)
    {
        using var mail = new MimeMessage();
        mail.From.Add(MailboxAddress.Parse(channel.EmailFrom ?? "monitor@localhost"));
        foreach (var to in (channel.EmailTo ?? "").Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            mail.To.Add(MailboxAddress.Parse(to));
        }
        mail.Subject = message.Title;
        mail.Body = new TextPart("plain") { Text = message.Text };
        using var smtp = new SmtpClient();
        try
        {
            var port = channel.SmtpPort > 0 ? channel.SmtpPort : 25;
            var host = channel.SmtpHost ?? throw new ChannelSendException("channel has no SMTP host", "", transient: false);
            var security = !channel.SmtpUseTls ? SecureSocketOptions.None : port == 465 ? SecureSocketOptions.SslOnConnect : SecureSocketOptions.StartTls;
            await smtp.ConnectAsync(host, port, security, cancellationToken).ConfigureAwait(false);
            if (!string.IsNullOrEmpty(channel.SmtpUser))
            {
                await smtp.AuthenticateAsync(channel.SmtpUser, channel.SmtpPassword ?? "", cancellationToken).ConfigureAwait(false);
            }
            var reply = await smtp.SendAsync(mail, cancellationToken).ConfigureAwait(false);
            await smtp.DisconnectAsync(true, cancellationToken).ConfigureAwait(false);
            return reply;
        }
        catch (SmtpCommandException ex)
        {
            var code = ((int)ex.StatusCode).ToString(CultureInfo.InvariantCulture);
            throw new ChannelSendException($"SMTP {code}: {ex.ErrorCode}", code, transient: (int)ex.StatusCode is >= 400 and < 500);
        }
        catch (Exception ex) when (ex is SmtpProtocolException or IOException or System.Net.Sockets.SocketException or AuthenticationException)
        {
            throw new ChannelSendException($"SMTP session failed: {ex.GetType().Name}", ex.GetType().Name, transient: ex is not AuthenticationException);
        }
    }
}
