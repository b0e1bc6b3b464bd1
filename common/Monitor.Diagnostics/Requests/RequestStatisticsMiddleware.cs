using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using Monitor.Diagnostics.Admin;

namespace Monitor.Diagnostics.Requests;

/// <summary>
/// Counts every HTTP request under its route template (<c>GET /api/v1/manage/hosts/{hostId}</c>), never its raw path:
/// requests that match no endpoint are counted as <c>{method} (unmatched)</c>. gRPC calls are left to
/// <see cref="RequestStatisticsInterceptor"/>, which sees their gRPC status. Must run after <c>UseRouting</c>.
/// </summary>
internal sealed class RequestStatisticsMiddleware(RequestDelegate next, RequestStatistics statistics, IOptions<DiagnosticsOptions> options)
{
    private readonly bool _enabled = options.Value.RequestStatistics;

    private static readonly HashSet<string> KnownMethods = new(StringComparer.Ordinal)
    {
        "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS",
    };

    public async Task InvokeAsync(HttpContext context)
    {
        var endpoint = context.GetEndpoint();
        if (!_enabled || endpoint?.Metadata.GetMetadata<GrpcMethodMetadata>() is not null)
        {
            await next(context).ConfigureAwait(false);
            return;
        }
        var start = statistics.GetTimestamp();
        var status = StatusCodes.Status500InternalServerError;
        try
        {
            await next(context).ConfigureAwait(false);
            status = context.Response.StatusCode;
        }
        finally
        {
            statistics.Record("http", RouteOf(context.Request.Method, endpoint), status, start);
        }
    }

    internal static string RouteOf(string method, Endpoint? endpoint)
    {
        var verb = KnownMethods.Contains(method) ? method : "OTHER";
        if (endpoint is RouteEndpoint { RoutePattern.RawText: { } template })
        {
            return template.StartsWith('/') ? $"{verb} {template}" : $"{verb} /{template}";
        }
        return $"{verb} (unmatched)";
    }
}
