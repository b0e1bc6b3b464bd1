using Monitor.AnalyzeService.Options;

namespace Monitor.AnalyzeService.Query;

/// <summary>Where an answer is computed from.</summary>
internal enum Resolution
{
    Raw,
    Rollup1m,
    Rollup1h,
}

/// <summary>One statement of a query: a resolution over a part of the requested range.</summary>
internal sealed record QueryPart(Resolution Resolution, long StartMs, long EndMs);

/// <summary>
/// What the rollup worker of this process has finished, per resolution: the windows in [From, To) are written.
/// Queries use a rollup only where it is complete and read the rest from raw samples.
/// </summary>
internal sealed class RollupCoverage
{
    private long _from1m = long.MinValue, _to1m = long.MinValue, _from1h = long.MinValue, _to1h = long.MinValue;

    public (long From, long To)? Get(Resolution resolution)
    {
        var (from, to) = resolution switch
        {
            Resolution.Rollup1m => (Interlocked.Read(ref _from1m), Interlocked.Read(ref _to1m)),
            Resolution.Rollup1h => (Interlocked.Read(ref _from1h), Interlocked.Read(ref _to1h)),
            _ => (long.MinValue, long.MinValue),
        };
        return from == long.MinValue || to <= from ? null : (from, to);
    }

    public void Set(Resolution resolution, long fromMs, long toMs)
    {
        switch (resolution)
        {
            case Resolution.Rollup1m:
                Interlocked.Exchange(ref _to1m, toMs);
                Interlocked.Exchange(ref _from1m, fromMs);
                break;
            case Resolution.Rollup1h:
                Interlocked.Exchange(ref _to1h, toMs);
                Interlocked.Exchange(ref _from1h, fromMs);
                break;
        }
    }
}

internal static class QueryPlanner
{
    public static TimeSpan Window(this Resolution resolution) => resolution switch
    {
        Resolution.Rollup1m => TimeSpan.FromMinutes(1),
        Resolution.Rollup1h => TimeSpan.FromHours(1),
        _ => TimeSpan.Zero,
    };

    public static string Name(this Resolution resolution) => resolution switch
    {
        Resolution.Rollup1m => "rollup_1m",
        Resolution.Rollup1h => "rollup_1h",
        _ => "raw",
    };

    /// <summary>
    /// Picks the coarsest resolution whose window divides the step and whose rollups cover the start of the range;
    /// the part of the range the rollup worker has not finished yet (the most recent steps) is read raw. A range that
    /// starts before the rollups' coverage is read raw entirely while raw samples still exist for it.
    /// </summary>
    public static IReadOnlyList<QueryPart> Plan(
        long startMs, long endMs, TimeSpan? step, AggregateFunction function, long nowMs, RetentionOptions retention, RollupCoverage coverage)
    {
        QueryPart[] raw = [new(Resolution.Raw, startMs, endMs)];
        if (step is not { } s || !retention.RollupsEnabled || !function.TryRollupExpression(out _))
        {
            return raw;
        }
        var stepMs = (long)s.TotalMilliseconds;
        var rawHorizon = nowMs - (long)retention.RawRetention.TotalMilliseconds;
        foreach (var resolution in (ReadOnlySpan<Resolution>)[Resolution.Rollup1h, Resolution.Rollup1m])
        {
            var windowMs = (long)resolution.Window().TotalMilliseconds;
            if (stepMs % windowMs != 0 || coverage.Get(resolution) is not { } covered)
            {
                continue;
            }
            // Steps are aligned to the epoch (GROUP BY time), so the switch to raw happens on a step boundary and no
            // step mixes both sources.
            var cutoff = FloorTo(Math.Min(covered.To, endMs), stepMs);
            var firstStep = FloorTo(startMs, stepMs);
            if (cutoff <= startMs || (firstStep < covered.From && startMs >= rawHorizon))
            {
                continue;
            }
            return cutoff >= endMs
                ? [new(resolution, startMs, endMs)]
                : [new(resolution, startMs, cutoff), new(Resolution.Raw, cutoff, endMs)];
        }
        return raw;
    }

    public static long FloorTo(long ms, long unit) => ms - (((ms % unit) + unit) % unit);
}
