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
/// </summary>
internal sealed partial class ProbeTargetDirectory(
    IServiceProvider services,
    IOptions<ManageOptions> options,
    TimeProvider timeProvider,
    ILogger<ProbeTargetDirectory> logger) : BackgroundService
{
    private volatile FrozenDictionary<string, string[]> _channels = FrozenDictionary<string, string[]>.Empty;

    public IReadOnlyList<string> ChannelsOf(string target) => _channels.TryGetValue(target, out var channels) ? channels : [];

    /// <summary>True once the targets were read at least once.</summary>
    public bool Loaded { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.Address is null)
        {
            return;
        }
        var client = services.GetRequiredService<ProbeConfigService.ProbeConfigServiceClient>();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var response = await client.ListTargetsAsync(new ListTargetsRequest(),
                    deadline: timeProvider.GetUtcNow().Add(options.Value.CallTimeout).UtcDateTime, cancellationToken: stoppingToken).ConfigureAwait(false);
                _channels = response.Targets.ToFrozenDictionary(t => t.Spec.Name, t => t.Spec.Channels.ToArray(), StringComparer.Ordinal);
                Loaded = true;
            }
            catch (RpcException ex) when (!stoppingToken.IsCancellationRequested)
            {
                Log.RefreshFailed(logger, ex.StatusCode, ex.Status.Detail);
            }
            try
            {
                await Task.Delay(options.Value.RefreshInterval, timeProvider, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 7601, EventName = "ProbeTargetDirectoryRefreshFailed", Level = LogLevel.Warning,
            Message = "Reading probe targets from the manage service failed ({Status}: {Detail}); keeping the previous channels")]
        public static partial void RefreshFailed(ILogger logger, StatusCode status, string detail);
    }
}

/// <summary>Seeds <see cref="ProbeRules.DefaultRule"/> at start-up unless a rule of that name exists or ever existed.</summary>
internal sealed partial class ProbeRuleSeeder(
    IServiceProvider services,
    TimeProvider timeProvider,
    ILogger<ProbeRuleSeeder> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await SeedAsync(stoppingToken).ConfigureAwait(false);
                return;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is Microsoft.EntityFrameworkCore.DbUpdateException or InvalidOperationException or MySqlConnector.MySqlException)
            {
                Log.SeedFailed(logger, ex);
            }
            await Task.Delay(TimeSpan.FromSeconds(5), timeProvider, stoppingToken).ConfigureAwait(false);
        }
    }

    private async Task SeedAsync(CancellationToken cancellationToken)
    {
        var dbFactory = services.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<Data.WarningDbContext>>();
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false))
        {
            const string Name = ProbeRules.DefaultRuleName;
            const string DeletedName = ProbeRules.DefaultRuleName + "#deleted-";
            if (await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.AnyAsync(db.Rules, r => r.Name == Name || r.Name.StartsWith(DeletedName), cancellationToken).ConfigureAwait(false))
            {
                return;
            }
        }
        var rules = services.GetRequiredService<Rules.RuleService>();
        await rules.CreateAsync(ProbeRules.DefaultRule(), "built-in", cancellationToken).ConfigureAwait(false);
        Log.Seeded(logger, ProbeRules.DefaultRuleName);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 7602, EventName = "ProbeRuleSeeded", Level = LogLevel.Information, Message = "Created the default probe rule '{Name}'")]
        public static partial void Seeded(ILogger logger, string name);

        [LoggerMessage(EventId = 7603, EventName = "ProbeRuleSeedFailed", Level = LogLevel.Warning, Message = "Seeding the default probe rule failed; retrying")]
        public static partial void SeedFailed(ILogger logger, Exception exception);
    }
}
