using System.Collections.Frozen;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Monitor.Protos.V1;
using Monitor.WarningService.Options;

namespace Monitor.WarningService.Probes;

/// <summary>
/// Probe target → notification channels, read from the manage service (<c>ProbeConfigService.ListTargets</c>) every
/// <see cref="ManageOptions.RefreshInterval"/> and held in memory, so the consumer thread never waits on a call.
/// Until the first read succeeds no target has channels (its alerts are still recorded).
/// After every read, what belongs to targets that are gone or paused is retired (<see cref="ProbeAlertStore.EndRetiredTargetsAsync"/>):
/// their firing alerts end with a resolve notice and their states are dropped, in MySQL and — through
/// <see cref="Retired"/> — in the probe evaluator's memory. "Gone" means listed by the manage service at an earlier
/// read of this instance and missing now: targets the manage service never listed (a prober's static
/// <c>Probes:Targets</c>) are not its to retire, so their alerts live and resolve like any other.
/// </summary>
internal sealed partial class ProbeTargetDirectory(
    IServiceProvider services,
    IOptions<ManageOptions> options,
    TimeProvider timeProvider,
    ILogger<ProbeTargetDirectory> logger) : BackgroundService
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(2);

    private volatile FrozenDictionary<string, string[]> _channels = FrozenDictionary<string, string[]>.Empty;
    private volatile RetiredTargets _retired = RetiredTargets.None;
    // Every target name the manage service listed (live or paused) since this instance started.
    private readonly HashSet<string> _listed = new(StringComparer.Ordinal);

    public IReadOnlyList<string> ChannelsOf(string target) => _channels.TryGetValue(target, out var channels) ? channels : [];

    /// <summary>True once the targets were read at least once.</summary>
    public bool Loaded { get; private set; }

    /// <summary>
    /// Targets whose alerts and states were retired and that were not live at the latest read (paused, or deleted with
    /// state left behind): the evaluator drops their in-memory state and ignores their late results. A new snapshot
    /// (reference) whenever the set changes.
    /// </summary>
    public RetiredTargets Retired => _retired;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.Address is null)
        {
            return;
        }
        var client = services.GetRequiredService<ProbeConfigService.ProbeConfigServiceClient>();
        while (!stoppingToken.IsCancellationRequested)
        {
            var delay = options.Value.RefreshInterval;
            try
            {
                // Retirement starts from the second read: at start-up manage may not be registered yet and the
                // database may still be migrating, and a read that fails leaves nothing to compare anyway.
                var watermark = Loaded ? await WatermarkAsync(stoppingToken).ConfigureAwait(false) : null;
                var response = await client.ListTargetsAsync(new ListTargetsRequest(),
                    deadline: timeProvider.GetUtcNow().Add(options.Value.CallTimeout).UtcDateTime, cancellationToken: stoppingToken).ConfigureAwait(false);
                _channels = response.Targets.ToFrozenDictionary(t => t.Spec.Name, t => t.Spec.Channels.ToArray(), StringComparer.Ordinal);
                Loaded = true;
                var live = response.Targets.Where(t => t.Spec.Enabled).Select(t => t.Spec.Name).ToFrozenSet(StringComparer.Ordinal);
                var paused = response.Targets.Where(t => !t.Spec.Enabled).Select(t => t.Spec.Name);
                _listed.UnionWith(response.Targets.Select(t => t.Spec.Name));
                if (watermark is not { } w || !await RetireAsync(live, paused, w, stoppingToken).ConfigureAwait(false))
                {
                    delay = TimeSpan.FromTicks(Math.Min(delay.Ticks, RetryDelay.Ticks));
                }
            }
            catch (RpcException ex) when (!stoppingToken.IsCancellationRequested)
            {
                Log.RefreshFailed(logger, ex.StatusCode, ex.Status.Detail);
                // e.g. at start-up, before manage has registered: try again soon rather than a whole refresh interval later.
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks, RetryDelay.Ticks));
            }
            try
            {
                await Task.Delay(delay, timeProvider, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Where retirement starts from, taken before the list is read; null when MySQL failed (logged).</summary>
    private async Task<(long, long)?> WatermarkAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await services.GetRequiredService<ProbeAlertStore>().WatermarkAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is InvalidOperationException or MySqlConnector.MySqlException or TimeoutException && !cancellationToken.IsCancellationRequested)
        {
            Log.RetireFailed(logger, ex);
            return null;
        }
    }

    /// <summary>Ends what belongs to targets that are not live; false when MySQL failed (tried again soon).</summary>
    private async Task<bool> RetireAsync(FrozenSet<string> live, IEnumerable<string> paused, (long, long) watermark, CancellationToken cancellationToken)
    {
        List<string> ended;
        try
        {
            var store = services.GetRequiredService<ProbeAlertStore>();
            (ended, var alerts, var queued) = await store.EndRetiredTargetsAsync(live, _listed, watermark, cancellationToken).ConfigureAwait(false);
            if (ended.Count > 0)
            {
                Log.TargetsRetired(logger, ended.Count, ended, alerts);
            }
            if (queued > 0)
            {
                services.GetRequiredService<Notifications.NotificationSignal>().Pulse();
            }
        }
        catch (Exception ex) when (ex is Microsoft.EntityFrameworkCore.DbUpdateException or InvalidOperationException or MySqlConnector.MySqlException or TimeoutException
            && !cancellationToken.IsCancellationRequested)
        {
            Log.RetireFailed(logger, ex);
            return false;
        }
        // Names retired earlier stay retired until they are live again (a deleted target's late results must not
        // start a new episode from the stale state the evaluator may still hold).
        var names = _retired.Names.Where(n => !live.Contains(n)).Concat(ended).Concat(paused).ToFrozenSet(StringComparer.Ordinal);
        if (!names.SetEquals(_retired.Names))
        {
            _retired = new RetiredTargets(names);
        }
        return true;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 7601, EventName = "ProbeTargetDirectoryRefreshFailed", Level = LogLevel.Warning,
            Message = "Reading probe targets from the manage service failed ({Status}: {Detail}); keeping the previous channels")]
        public static partial void RefreshFailed(ILogger logger, StatusCode status, string detail);

        [LoggerMessage(EventId = 7625, EventName = "ProbeTargetsRetired", Level = LogLevel.Information,
            Message = "{Count} probe target(s) deleted or paused ({Targets}): their states were dropped and {Ended} firing alert(s) ended")]
        public static partial void TargetsRetired(ILogger logger, int count, IReadOnlyList<string> targets, int ended);

        [LoggerMessage(EventId = 7626, EventName = "ProbeTargetRetireFailed", Level = LogLevel.Warning,
            Message = "Ending the alerts of deleted or paused probe targets failed; retrying soon")]
        public static partial void RetireFailed(ILogger logger, Exception exception);
    }
}

/// <summary>An immutable snapshot of <see cref="ProbeTargetDirectory.Retired"/>.</summary>
internal sealed class RetiredTargets(FrozenSet<string> names)
{
    public static readonly RetiredTargets None = new(FrozenSet<string>.Empty);

    public FrozenSet<string> Names { get; } = names;

    public bool Contains(string target) => Names.Count > 0 && Names.Contains(target);
}
