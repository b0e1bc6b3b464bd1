using System.Collections.Concurrent;
using System.Data;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Monitor.WarningService.Data;
using Monitor.WarningService.Extensions;
using Monitor.WarningService.Options;
using Monitor.WarningService.Rules;
using MySqlConnector;
using Polly;

namespace Monitor.WarningService.Notifications;

/// <summary>
/// Sends the outbox. Rows are claimed atomically (so two instances never send the same row), channels are
/// sent in parallel (a failing channel never blocks the others), every send is retried with backoff and
/// written to the push log. A channel's rate limit holds across all instances: each message takes a slot in MySQL
/// first (<see cref="TryTakeRateSlotAsync"/>). Also queues repeats of still-firing, unacknowledged alerts.
/// </summary>
internal sealed partial class NotificationDispatcher(
    IDbContextFactory<WarningDbContext> dbFactory,
    RuleCatalog catalog,
    NotificationPlanner planner,
    NotificationSignal signal,
    HttpChannelSender httpSender,
    EmailChannelSender emailSender,
    [FromKeyedServices(ResiliencePipelines.NotificationSend)] ResiliencePipeline sendPipeline,
    IOptions<WarningOptions> options,
    WarningMetrics metrics,
    TimeProvider timeProvider,
    ILogger<NotificationDispatcher> logger) : BackgroundService
{
    private const int ClaimBatch = 100;
    private readonly WarningOptions _options = options.Value;
    private readonly ConcurrentDictionary<string, int> _consecutiveFailures = new(StringComparer.Ordinal);
    /// <summary>A push_log id below which every row is older than any rate window (so the slot count reads a short id range).</summary>
    private long _pushLogFloor;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await signal.WaitAsync(_options.DispatchInterval, stoppingToken).ConfigureAwait(false);
                await QueueRepeatsAsync(stoppingToken).ConfigureAwait(false);
                while (await DispatchOnceAsync(stoppingToken).ConfigureAwait(false) == ClaimBatch)
                {
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is MySqlException or DbUpdateException or InvalidOperationException or TimeoutException)
            {
                Log.DispatchFailed(logger, ex);
                await Task.Delay(TimeSpan.FromSeconds(1), timeProvider, stoppingToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Claims up to <see cref="ClaimBatch"/> rows and sends them; returns how many were claimed.</summary>
    internal async Task<int> DispatchOnceAsync(CancellationToken cancellationToken)
    {
        var nowMs = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        var token = Guid.NewGuid().ToString("N");
        List<NotificationEntity> claimed;
        Dictionary<long, AlertEntity> alerts;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false))
        {
            // Pending rows are due once the oldest of them is a group window old; then every row created within that
            // window goes out with it (rows created a moment after a claim would otherwise miss their group).
            var windowMs = (long)_options.GroupWindow.TotalMilliseconds;
            var dueUpToMs = nowMs;
            if (windowMs > 0)
            {
                var oldestMs = (await db.Database.SqlQuery<long?>($"SELECT MIN(CreatedAtMs) AS Value FROM notifications WHERE Status = 'pending'")
                    .ToListAsync(cancellationToken).ConfigureAwait(false)).FirstOrDefault();
                dueUpToMs = oldestMs is { } oldest && oldest <= nowMs - windowMs ? oldest + windowMs : long.MinValue;
            }
            // A row left in 'sending' by an instance that died is taken over once its claim expired.
            var count = await db.Database.ExecuteSqlAsync(
                $"UPDATE notifications SET Status = 'sending', ClaimToken = {token}, ClaimedUntilMs = {nowMs + (long)_options.ClaimTimeout.TotalMilliseconds} WHERE (Status = 'pending' AND CreatedAtMs <= {dueUpToMs}) OR (Status = 'sending' AND ClaimedUntilMs < {nowMs}) ORDER BY Id LIMIT 100",
                cancellationToken).ConfigureAwait(false);
            if (count == 0)
            {
                return 0;
            }
            if (_options.ChannelRateLimitPerMinute > 0)
            {
                var oldMs = nowMs - 10 * (long)_options.ChannelRateLimitWindow.TotalMilliseconds;
                var floor = _pushLogFloor;
                _pushLogFloor = (await db.Database.SqlQuery<long>($"SELECT COALESCE(MAX(Id), {floor}) AS Value FROM push_log WHERE Id > {floor} AND AtMs < {oldMs}")
                    .ToListAsync(cancellationToken).ConfigureAwait(false)).FirstOrDefault(floor);
            }
            claimed = await db.Notifications.AsNoTracking().Where(n => n.ClaimToken == token).OrderBy(n => n.Id).ToListAsync(cancellationToken).ConfigureAwait(false);
            var ids = claimed.Select(n => n.AlertId).Distinct().ToList();
            alerts = await db.Alerts.AsNoTracking().Where(a => ids.Contains(a.Id)).ToDictionaryAsync(a => a.Id, cancellationToken).ConfigureAwait(false);
        }
        if (claimed.Any(n => !catalog.Channels.ContainsKey(n.Channel)))
        {
            await catalog.ReloadAsync(cancellationToken).ConfigureAwait(false);
        }
        // Channels in parallel, each channel's notifications in order.
        await Task.WhenAll(claimed.GroupBy(n => n.Channel, StringComparer.Ordinal)
            .Select(g => SendChannelAsync(g.Key, g.ToList(), alerts, token, cancellationToken))).ConfigureAwait(false);
        return claimed.Count;
    }

    private async Task SendChannelAsync(string channelName, List<NotificationEntity> rows, Dictionary<long, AlertEntity> alerts, string token, CancellationToken cancellationToken)
    {
        catalog.Channels.TryGetValue(channelName, out var channel);
        var sendable = new List<(NotificationEntity Row, AlertEntity Alert)>();
        foreach (var row in rows)
        {
            if (!alerts.TryGetValue(row.AlertId, out var alert))
            {
                await FinishAsync(row, token, NotificationStatuses.Failed, null, cancellationToken).ConfigureAwait(false);
            }
            else if (channel is null || !channel.Enabled)
            {
                await FinishAsync(row, token, NotificationStatuses.Failed, Entry(row, channel, channelName, "", NotificationStatuses.Failed, "", 0, 0,
                    channel is null ? "unknown channel" : "channel disabled"), cancellationToken).ConfigureAwait(false);
            }
            else
            {
                sendable.Add((row, alert));
            }
        }
        if (channel is null)
        {
            return;
        }
        // Grouping: the same transition of the same rule on several hosts within the group window goes out as one message.
        var groups = _options.GroupWindow > TimeSpan.Zero
            ? sendable.GroupBy(x => (x.Row.Kind, x.Alert.RuleId)).Select(g => g.ToList()).ToList()
            : sendable.Select(x => new List<(NotificationEntity Row, AlertEntity Alert)> { x }).ToList();
        for (int g = 0; g < groups.Count; g++)
        {
            var group = groups[g];
            var rowIds = group.Select(x => x.Row.Id).ToList();
            var (slotToken, retryAtMs) = await TryTakeRateSlotAsync(channelName, rowIds, token, g, cancellationToken).ConfigureAwait(false);
            if (slotToken is null)
            {
                // Over the channel's rate limit: park the rows until a slot should be free; then any instance takes
                // them over like an expired claim (no polling of the full window meanwhile).
                await ParkAsync(rowIds, token, retryAtMs, cancellationToken).ConfigureAwait(false);
                var retryAt = DateTimeOffset.FromUnixTimeMilliseconds(retryAtMs);
                foreach (var id in rowIds)
                {
                    Log.RateLimited(logger, channelName, id, retryAt);
                }
                continue;
            }
            var log = await SendAsync(group, channel, cancellationToken).ConfigureAwait(false);
            // One time for the whole group: the slot count sees one message per (time, payload digest).
            var atMs = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
            foreach (var (row, _) in group)
            {
                await FinishAsync(row, slotToken, log.Status, Entry(row, channel, channel.Name, log.PayloadDigest, log.Status, log.Reply, log.Attempts, log.LatencyMs, log.Error),
                    cancellationToken, atMs).ConfigureAwait(false);
            }
        }
    }

    private async Task<PushLogEntity> SendAsync(List<(NotificationEntity Row, AlertEntity Alert)> group, ChannelEntity channel, CancellationToken cancellationToken)
    {
        var row = group[0].Row;
        IChannelSender sender = channel.Type == ChannelTypes.Email ? emailSender : httpSender;
        var message = MessageTemplates.RenderGroup(group.Select(x => x.Alert).ToList(), row.Kind, channel.Template);
        var payload = sender.Payload(channel, message);
        var digest = MessageTemplates.Digest(payload);
        var state = new SendState(sender, channel, message, payload);
        var started = Stopwatch.GetTimestamp();
        try
        {
            var reply = await sendPipeline.ExecuteAsync(static async (s, ct) =>
            {
                Interlocked.Increment(ref s.Attempts);
                return await s.Sender.SendAsync(s.Channel, s.Message, s.Payload, ct).ConfigureAwait(false);
            }, state, cancellationToken).ConfigureAwait(false);
            var attempts = state.Attempts;
            var latency = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            _consecutiveFailures[channel.Name] = 0;
            metrics.Sent(channel.Type, NotificationStatuses.Sent, latency);
            Log.Sent(logger, row.Kind, row.AlertId, group.Count, channel.Name, channel.Type, attempts, latency);
            return Entry(row, channel, channel.Name, digest, NotificationStatuses.Sent, Truncate(reply, 512), attempts, latency, null);
        }
        catch (Exception ex) when (ex is ChannelSendException or Polly.Timeout.TimeoutRejectedException or HttpRequestException)
        {
            var latency = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            var attempts = state.Attempts;
            var reply = ex is ChannelSendException cse ? cse.Reply : "timeout";
            var error = Scrub(ex.Message, channel);
            metrics.Sent(channel.Type, NotificationStatuses.Failed, latency);
            var failures = _consecutiveFailures.AddOrUpdate(channel.Name, 1, (_, n) => n + 1);
            Log.SendFailed(logger, row.Kind, row.AlertId, channel.Name, channel.Type, attempts, error);
            if (failures >= _options.ChannelFailingAfter)
            {
                Log.ChannelFailing(logger, channel.Name, channel.Type, failures);
            }
            return Entry(row, channel, channel.Name, digest, NotificationStatuses.Failed, reply, attempts, latency, error);
        }
    }

    private static PushLogEntity Entry(NotificationEntity row, ChannelEntity? channel, string channelName, string digest, string status, string reply, int attempts, long latencyMs, string? error) => new()
    {
        NotificationId = row.Id,
        AlertId = row.AlertId,
        Channel = channelName,
        ChannelType = channel?.Type ?? "",
        Kind = row.Kind,
        PayloadDigest = digest,
        Status = status,
        Reply = reply,
        Attempts = attempts,
        LatencyMs = latencyMs,
        Error = error is null ? null : Truncate(error, 1024),
    };

    /// <summary>Records the outcome: the push-log row and the notification's final status, in one round trip.</summary>
    private async Task FinishAsync(NotificationEntity row, string token, string status, PushLogEntity? log, CancellationToken cancellationToken, long atMs = 0)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        if (log is null)
        {
            await db.Notifications.Where(n => n.Id == row.Id && n.ClaimToken == token)
                .ExecuteUpdateAsync(u => u.SetProperty(n => n.Status, status), cancellationToken).ConfigureAwait(false);
            return;
        }
        var at = atMs > 0 ? atMs : timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO push_log (NotificationId, AlertId, Channel, ChannelType, Kind, PayloadDigest, Status, Reply, Attempts, LatencyMs, Error, AtMs)
            VALUES ({log.NotificationId}, {log.AlertId}, {log.Channel}, {log.ChannelType}, {log.Kind}, {log.PayloadDigest}, {log.Status}, {log.Reply}, {log.Attempts}, {log.LatencyMs}, {log.Error}, {at});
            UPDATE notifications SET Status = {status} WHERE Id = {row.Id} AND ClaimToken = {token};
            """, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Leaves rate-limited rows claimed by nobody until <paramref name="untilMs"/>, when the claim query takes them over.</summary>
    private async Task ParkAsync(List<long> rowIds, string token, long untilMs, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        await db.Notifications.Where(n => rowIds.Contains(n.Id) && n.ClaimToken == token)
            .ExecuteUpdateAsync(u => u.SetProperty(n => n.ClaimToken, (string?)null).SetProperty(n => n.ClaimedUntilMs, untilMs), cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>
    /// Takes one of the channel's sends in the rate window for a message made of the claimed rows
    /// <paramref name="rowIds"/>, counted over all instances: with the channel's row locked (so deciding is serialised
    /// across instances), the messages in the window are those finished (push_log rows with attempts, one per time
    /// and payload digest) plus those in flight (rows whose claim carries a slot token, one per token). Returns the slot
    /// token the rows now carry, or null when the window is full (the rows keep the claim token; the caller parks them
    /// until the returned time, when the oldest counted send leaves the window).
    /// </summary>
    private async Task<(string? SlotToken, long RetryAtMs)> TryTakeRateSlotAsync(string channel, List<long> rowIds, string token, int group, CancellationToken cancellationToken)
    {
        var limit = _options.ChannelRateLimitPerMinute;
        if (limit <= 0)
        {
            return (token, 0);
        }
        var nowMs = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        var sinceMs = nowMs - (long)_options.ChannelRateLimitWindow.TotalMilliseconds;
        var floor = _pushLogFloor;
        var slotToken = string.Create(CultureInfo.InvariantCulture, $"{token}{SlotMark}{group}");
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        // Read committed: the counts must see what the previous holder of the lock committed just before.
        await using var tx = await db.Database.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken).ConfigureAwait(false);
        await db.Database.SqlQuery<long>($"SELECT Id AS Value FROM channels WHERE Name = {channel} FOR UPDATE").ToListAsync(cancellationToken).ConfigureAwait(false);
        // One row per finished message: its time.
        var sends = await db.Database.SqlQuery<long>(
            $"SELECT AtMs AS Value FROM (SELECT DISTINCT AtMs, PayloadDigest FROM push_log WHERE Id > {floor} AND Channel = {channel} AND AtMs > {sinceMs} AND Attempts > 0) m")
            .ToListAsync(cancellationToken).ConfigureAwait(false);
        var finished = sends.Count;
        var slotPattern = "%" + SlotMark + "%";
        var inFlight = (await db.Database.SqlQuery<long>(
            $"SELECT COUNT(DISTINCT ClaimToken) AS Value FROM notifications WHERE Status = 'sending' AND ClaimedUntilMs >= {nowMs} AND Channel = {channel} AND ClaimToken LIKE {slotPattern}")
            .ToListAsync(cancellationToken).ConfigureAwait(false)).Single();
        if (finished + inFlight >= limit)
        {
            await tx.RollbackAsync(cancellationToken).ConfigureAwait(false);
            // A slot frees when the oldest finished send leaves the window; with only sends in flight, look again soon.
            var retryAtMs = sends.Count > 0 ? sends.Min() + (nowMs - sinceMs) + 1 : nowMs + 1000;
            return (null, Math.Max(retryAtMs, nowMs + 100));
        }
        await db.Notifications.Where(n => rowIds.Contains(n.Id) && n.ClaimToken == token)
            .ExecuteUpdateAsync(u => u.SetProperty(n => n.ClaimToken, slotToken), cancellationToken).ConfigureAwait(false);
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return (slotToken, 0);
    }

    /// <summary>Marks a claim token as holding a rate slot (claim tokens are hex GUIDs, so it never occurs otherwise).</summary>
    private const string SlotMark = ":s";

    /// <summary>Queues a repeat for every firing, unacknowledged alert whose repeat interval elapsed; the conditional update makes one instance win.</summary>
    internal async Task QueueRepeatsAsync(CancellationToken cancellationToken)
    {
        var nowMs = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var due = await db.Alerts.AsNoTracking()
            .Where(a => a.State == "firing" && a.AcknowledgedAtMs == null && a.RepeatIntervalMs > 0 && a.LastNotifiedAtMs + a.RepeatIntervalMs <= nowMs)
            .OrderBy(a => a.Id).Take(100).ToListAsync(cancellationToken).ConfigureAwait(false);
        if (due.Count == 0)
        {
            return;
        }
        var silences = await NotificationPlanner.ActiveSilencesAsync(db, nowMs, cancellationToken).ConfigureAwait(false);
        var queued = 0;
        foreach (var alert in due)
        {
            await using var tx = await db.Database.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            var won = await db.Alerts.Where(a => a.Id == alert.Id && a.LastNotifiedAtMs == alert.LastNotifiedAtMs && a.AcknowledgedAtMs == null)
                .ExecuteUpdateAsync(u => u.SetProperty(a => a.LastNotifiedAtMs, nowMs), cancellationToken).ConfigureAwait(false);
            if (won == 1)
            {
                var channels = JsonSerializer.Deserialize<List<string>>(alert.ChannelsJson) ?? [];
                queued += await planner.EnqueueAsync(db, alert, NotificationKinds.Repeat, channels, silences, nowMs, cancellationToken).ConfigureAwait(false);
            }
            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        if (queued > 0)
        {
            signal.Pulse();
        }
    }

    /// <summary>Removes anything secret that an exception message might echo.</summary>
    internal static string Scrub(string text, ChannelEntity channel)
    {
        foreach (var secret in new[] { channel.Url, channel.Secret, channel.SmtpPassword })
        {
            if (!string.IsNullOrEmpty(secret))
            {
                text = text.Replace(secret, "***", StringComparison.Ordinal);
            }
        }
        return text;
    }

    private static string Truncate(string s, int max) => s.Length <= max ? s : s[..max];

    private sealed class SendState(IChannelSender sender, ChannelEntity channel, RenderedMessage message, string payload)
    {
#pragma warning disable CA1051 // A field, so the retry callback can Interlocked.Increment it.
        public int Attempts;
#pragma warning restore CA1051
        public IChannelSender Sender { get; } = sender;
        public ChannelEntity Channel { get; } = channel;
        public RenderedMessage Message { get; } = message;
        public string Payload { get; } = payload;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 7101, EventName = "NotificationSent", Level = LogLevel.Information,
            Message = "Sent {Kind} notification of alert {AlertId} (group of {GroupSize}) to channel {Channel} ({ChannelType}) after {Attempts} attempt(s) in {LatencyMs} ms")]
        public static partial void Sent(ILogger logger, string kind, long alertId, int groupSize, string channel, string channelType, int attempts, long latencyMs);

        [LoggerMessage(EventId = 7102, EventName = "NotificationFailed", Level = LogLevel.Warning,
            Message = "Sending {Kind} notification of alert {AlertId} to channel {Channel} ({ChannelType}) failed after {Attempts} attempt(s): {Error}")]
        public static partial void SendFailed(ILogger logger, string kind, long alertId, string channel, string channelType, int attempts, string error);

        [LoggerMessage(EventId = 7103, EventName = "ChannelFailing", Level = LogLevel.Error,
            Message = "Channel {Channel} ({ChannelType}) is failing: {Failures} consecutive sends failed")]
        public static partial void ChannelFailing(ILogger logger, string channel, string channelType, int failures);

        [LoggerMessage(EventId = 7104, EventName = "DispatchFailed", Level = LogLevel.Warning, Message = "Notification dispatch round failed; retrying")]
        public static partial void DispatchFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 7105, EventName = "ChannelRateLimited", Level = LogLevel.Information,
            Message = "Channel {Channel} is over its rate limit; notification {NotificationId} waits until {RetryAt}")]
        public static partial void RateLimited(ILogger logger, string channel, long notificationId, DateTimeOffset retryAt);
    }
}
