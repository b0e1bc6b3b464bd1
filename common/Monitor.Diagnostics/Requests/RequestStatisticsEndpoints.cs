using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Monitor.Diagnostics.Requests;

/// <summary>The per-instance JSON view of <see cref="RequestStatistics"/>.</summary>
public static class RequestStatisticsEndpoints
{
    /// <summary>The default window when none is asked for.</summary>
    public const int DefaultWindowMinutes = 5;

    /// <summary>Path of the view for a service of kind <paramref name="kind"/>.</summary>
    public static string PathFor(string kind) => $"/api/v1/{kind}/instance/stats/requests";

    /// <summary>
    /// Maps <c>GET /api/v1/{kind}/instance/stats/requests?window=5m</c> (window: <c>90s</c>, <c>5m</c>, <c>1h</c> or plain
    /// seconds, rounded up to whole minutes, 1 to 60 minutes). The caller declares the endpoint's role.
    /// </summary>
    public static RouteHandlerBuilder MapRequestStatistics(this IEndpointRouteBuilder app, string kind, string instance)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.MapGet(PathFor(kind), (RequestStatistics statistics, string? window) =>
        {
            if (!TryParseWindowMinutes(window, out var minutes, out var error))
            {
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["window"] = [error] });
            }
            return Results.Json(statistics.Snapshot(kind, instance, minutes), RequestStatsJsonContext.Default.RequestStatsSnapshot);
        }).WithName($"{kind}-request-statistics").WithSummary("Request statistics of this instance per HTTP route and gRPC method over a window.");
    }

    /// <summary>Parses a window (<c>90s</c>, <c>5m</c>, <c>1h</c>, plain seconds; empty = 5 minutes) into whole minutes, 1 to 60.</summary>
    public static bool TryParseWindowMinutes(string? window, out int minutes, out string error)
    {
        error = "";
        minutes = DefaultWindowMinutes;
        if (string.IsNullOrWhiteSpace(window))
        {
            return true;
        }
        var text = window.Trim();
        var unit = char.ToLowerInvariant(text[^1]);
        var multiplier = unit switch { 's' => 1, 'm' => 60, 'h' => 3600, _ => 0 };
        var number = multiplier == 0 ? text : text[..^1];
        if (multiplier == 0)
        {
            multiplier = 1;
        }
        if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value) || value <= 0 || double.IsInfinity(value))
        {
            error = "must be a positive duration such as 90s, 5m or 1h";
            return false;
        }
        var seconds = value * multiplier;
        if (seconds > RequestStatistics.MaxWindowMinutes * 60)
        {
            error = $"must be at most {RequestStatistics.MaxWindowMinutes}m";
            return false;
        }
        minutes = Math.Clamp((int)Math.Ceiling(seconds / 60), 1, RequestStatistics.MaxWindowMinutes);
        return true;
    }
}
