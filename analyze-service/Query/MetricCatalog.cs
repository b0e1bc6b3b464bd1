using Microsoft.Extensions.Options;
using Monitor.AnalyzeService.Options;

namespace Monitor.AnalyzeService.Query;

/// <summary>The metrics (measurements) that exist, cached, so an unknown metric is a clear 400 instead of an empty answer.</summary>
internal sealed class MetricCatalog(IInfluxExecutor influx, IOptions<AnalyzeOptions> options, TimeProvider timeProvider) : IDisposable
{
    private static readonly TimeSpan MinRefreshInterval = TimeSpan.FromSeconds(1);
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private volatile HashSet<string> _known = new(StringComparer.Ordinal);
    private DateTimeOffset _loadedAt = DateTimeOffset.MinValue;

    /// <summary>Throws <see cref="AnalyzeValidationException"/> unless <paramref name="metric"/> has data.</summary>
    public async Task RequireAsync(string metric, string field, CancellationToken cancellationToken)
    {
        var fresh = timeProvider.GetUtcNow() - _loadedAt < options.Value.MetricCacheTtl;
        if (fresh && _known.Contains(metric))
        {
            return;
        }
        // Stale, or unknown and maybe new since the last look: refresh (at most once a second for unknown names).
        await TryRefreshAsync(fresh ? MinRefreshInterval : options.Value.MetricCacheTtl, cancellationToken).ConfigureAwait(false);
        if (!_known.Contains(metric))
        {
            throw new AnalyzeValidationException(field, $"unknown metric '{metric}': no data has been stored for it.");
        }
    }

    public async Task<IReadOnlyCollection<string>> AllAsync(CancellationToken cancellationToken)
    {
        await TryRefreshAsync(options.Value.MetricCacheTtl, cancellationToken).ConfigureAwait(false);
        return _known;
    }

    public void Dispose() => _refresh.Dispose();

    private async Task<bool> TryRefreshAsync(TimeSpan ifOlderThan, CancellationToken cancellationToken)
    {
        if (timeProvider.GetUtcNow() - _loadedAt < ifOlderThan)
        {
            return false;
        }
        await _refresh.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (timeProvider.GetUtcNow() - _loadedAt < ifOlderThan)
            {
                return false;
            }
            var result = await influx.QueryAsync("catalog", InfluxQueryBuilder.ShowMeasurements(), cancellationToken).ConfigureAwait(false);
            var known = new HashSet<string>(StringComparer.Ordinal);
            foreach (var series in result.Series)
            {
                for (var row = 0; row < series.RowCount; row++)
                {
                    if (series.GetString(row, 0) is { } name)
                    {
                        known.Add(name);
                    }
                }
            }
            _known = known;
            _loadedAt = timeProvider.GetUtcNow();
            return true;
        }
        finally
        {
            _refresh.Release();
        }
    }
}
