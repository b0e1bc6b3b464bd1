using System.Text.Json;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Monitor.Agent.Options;
using Monitor.Prober.Options;
using Monitor.Prober.Scheduling;
using Monitor.Protos.V1;

namespace Monitor.Prober.Targets;

/// <summary>
/// Keeps one <c>monitor.v1.ProbeConfigService/WatchTargets</c> stream open to the manage service
/// (directly or through nginx) and publishes every target set it receives; the scheduler applies
/// adds, edits, pauses (a paused target is simply no longer sent) and deletes without a restart.
/// While the manage service is away the last received set keeps running; the stream is re-opened
/// with exponential backoff. Credentials and TLS trust are the agent's (<c>Agent:Token</c>/<c>Agent:TokenFile</c>,
/// <c>Agent:CaCertificatePath</c>), as for the report stream.
/// </summary>
internal sealed partial class ManageTargetSource(
    TargetStore store,
    IOptions<ProberOptions> proberOptions,
    IOptions<AgentOptions> agentOptions,
    IOptions<AgentCredentialsOptions> credentials,
    TimeProvider timeProvider,
    ILogger<ManageTargetSource> logger) : BackgroundService
{
    private readonly ManageTargetsOptions _options = proberOptions.Value.Manage;
    private readonly AgentOptions _agent = agentOptions.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (string.IsNullOrWhiteSpace(_options.Address))
        {
            return;
        }
        var delay = _options.ReconnectInitialDelay;
        while (!stoppingToken.IsCancellationRequested)
        {
            var received = false;
            try
            {
                using var channel = ManageChannel.Create(_options.Address, credentials.Value);
                var client = new ProbeConfigService.ProbeConfigServiceClient(channel);
                using var call = client.WatchTargets(new WatchTargetsRequest
                {
                    HostId = _agent.EffectiveHostId,
                    Location = _options.Location,
                    ProberVersion = "monitor-prober/" + ResultEmitter.Version,
                }, ManageChannel.Headers(credentials.Value), cancellationToken: stoppingToken);
                await foreach (var set in call.ResponseStream.ReadAllAsync(stoppingToken).ConfigureAwait(false))
                {
                    received = true;
                    delay = _options.ReconnectInitialDelay;
                    var targets = Convert(set, logger);
                    store.Publish(TargetStore.ManageSource, targets);
                    Log.Received(logger, set.Revision, targets.Count, _options.Address);
                }
                Log.Ended(logger, _options.Address);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (RpcException ex) when (stoppingToken.IsCancellationRequested && ex.StatusCode == StatusCode.Cancelled)
            {
                break;
            }
            catch (Exception ex) when (ex is RpcException or HttpRequestException or IOException or InvalidOperationException)
            {
                Log.Failed(logger, _options.Address, store.Of(TargetStore.ManageSource).Count, ex.Message);
            }
            if (!received)
            {
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.ReconnectMaxDelay.Ticks));
            }
            try
            {
                await Task.Delay(Jitter(received ? _options.ReconnectInitialDelay : delay), timeProvider, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    private static TimeSpan Jitter(TimeSpan delay) => delay * (0.8 + (Random.Shared.NextDouble() * 0.4));

    /// <summary>The definitions of a received set; a target whose config is not a JSON object is skipped (logged by name).</summary>
    internal static List<TargetDefinition> Convert(TargetSet set, ILogger logger)
    {
        var list = new List<TargetDefinition>(set.Targets.Count);
        foreach (var target in set.Targets)
        {
            var spec = target.Spec;
            if (spec is null)
            {
                continue;
            }
            try
            {
                list.Add(new TargetDefinition(
                    spec.Name,
                    spec.Type,
                    TargetDefinition.ConfigFromJson(spec.ConfigJson),
                    spec.IntervalMs > 0 ? TimeSpan.FromMilliseconds(spec.IntervalMs) : TargetDefinition.DefaultInterval,
                    spec.TimeoutMs > 0 ? TimeSpan.FromMilliseconds(spec.TimeoutMs) : TargetDefinition.DefaultTimeout,
                    spec.Enabled));
            }
            catch (Exception ex) when (ex is FormatException or JsonException or InvalidDataException)
            {
                // Never the config itself: it holds secrets.
                Log.BadConfig(logger, spec.Name);
            }
        }
        return list;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4611, EventName = "TargetsReceived", Level = LogLevel.Information,
            Message = "Target set revision {Revision} received from {Address}: {Count} target(s)")]
        public static partial void Received(ILogger logger, long revision, int count, string address);

        [LoggerMessage(EventId = 4612, EventName = "TargetStreamFailed", Level = LogLevel.Warning,
            Message = "Target stream from {Address} failed; keeping the last {Count} target(s), retrying: {Error}")]
        public static partial void Failed(ILogger logger, string address, int count, string error);

        [LoggerMessage(EventId = 4613, EventName = "TargetStreamEnded", Level = LogLevel.Information,
            Message = "Target stream from {Address} ended by the server; reconnecting")]
        public static partial void Ended(ILogger logger, string address);

        [LoggerMessage(EventId = 4614, EventName = "TargetConfigUnreadable", Level = LogLevel.Warning,
            Message = "Target {Target} skipped: its config_json is not a JSON object")]
        public static partial void BadConfig(ILogger logger, string target);
    }
}
