using Microsoft.Extensions.Options;
using Monitor.WarningService.Options;
using MySqlConnector;

namespace Monitor.WarningService.Rules;

/// <summary>Reloads rules and channels periodically, so a change made through another instance takes effect here too.</summary>
internal sealed partial class RuleRefreshWorker(RuleCatalog catalog, IOptions<WarningOptions> options, TimeProvider timeProvider, ILogger<RuleRefreshWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await catalog.ReloadAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is MySqlException or InvalidOperationException or TimeoutException)
            {
                Log.ReloadFailed(logger, ex);
            }
            try
            {
                await Task.Delay(options.Value.RuleRefreshInterval, timeProvider, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 7301, EventName = "RuleReloadFailed", Level = LogLevel.Warning, Message = "Reloading the rules failed; keeping the previous ones")]
        public static partial void ReloadFailed(ILogger logger, Exception exception);
    }
}
