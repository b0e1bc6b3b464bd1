using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Monitor.Diagnostics.Admin;

/// <summary>
/// The runtime diagnostics under <c>/diagnostics/*</c>, answered only on the admin port. Guarded, in order: a request
/// on another port, or with no <c>Diagnostics:Token</c> configured, gets 404; a non-loopback caller while the admin
/// port is bound to loopback gets 403; a missing or wrong token gets 401 (SHA-256 hashes compared in constant time);
/// a second operation while one runs gets 429. Parameters are clamped, not refused.
/// </summary>
public static partial class DiagnosticsEndpoints
{
    /// <summary>Path prefix.</summary>
    public const string Prefix = "/diagnostics";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        TypeInfoResolver = DiagnosticsJsonContext.Default,
    };

    /// <summary>Maps the diagnostics on <paramref name="adminUrl"/>'s port. The caller marks the group anonymous for the normal auth seam.</summary>
    public static RouteGroupBuilder MapMonitorAdminDiagnostics(this IEndpointRouteBuilder app, string adminUrl)
    {
        ArgumentNullException.ThrowIfNull(app);
        var uri = new Uri(adminUrl);
        var adminPort = uri.Port;
        var loopbackOnly = uri.Host is "localhost" || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
        var options = app.ServiceProvider.GetRequiredService<IOptions<DiagnosticsOptions>>().Value;
        var logger = app.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(DiagnosticsEndpoints).FullName!);
        var tokenHash = string.IsNullOrEmpty(options.Token) ? null : SHA256.HashData(Encoding.UTF8.GetBytes(options.Token));
        if (tokenHash is null)
        {
            Log.Disabled(logger, adminUrl);
        }
        else
        {
            Log.Enabled(logger, adminUrl);
        }

        var group = app.MapGroup(Prefix).ExcludeFromDescription();
        group.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            if (http.Connection.LocalPort != adminPort || tokenHash is null)
            {
                return Results.NotFound();
            }
            if (loopbackOnly && (http.Connection.RemoteIpAddress is not { } remote || !IPAddress.IsLoopback(remote)))
            {
                return Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Diagnostics are served to loopback callers only");
            }
            if (!TokenMatches(http.Request.Headers.Authorization.ToString(), tokenHash))
            {
                return Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Diagnostics token required",
                    detail: "Send 'Authorization: Bearer <Diagnostics:Token>'.");
            }
            var diagnostics = http.RequestServices.GetRequiredService<RuntimeDiagnostics>();
            if (!diagnostics.TryEnter())
            {
                return Results.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Another diagnostics operation is running");
            }
            try
            {
                var result = await next(context).ConfigureAwait(false);
                if (result is IResult r)
                {
                    // Execute inside the gate, so streamed artefacts count as running until sent.
                    await r.ExecuteAsync(http).ConfigureAwait(false);
                    return Results.Empty;
                }
                return result;
            }
            finally
            {
                diagnostics.Exit();
            }
        });

        group.MapGet("/gc", () => Results.Json(RuntimeDiagnostics.Gc(), Json));

        group.MapGet("/threads", async (RuntimeDiagnostics diagnostics, int? frames, CancellationToken ct) =>
            Results.Json(await diagnostics.ThreadsAsync(frames ?? 64, ct).ConfigureAwait(false), Json));

        group.MapGet("/heap", async (RuntimeDiagnostics diagnostics, int? top, CancellationToken ct) =>
            Results.Json(await diagnostics.HeapAsync(top ?? 100, ct).ConfigureAwait(false), Json));

        group.MapGet("/cpu", async (RuntimeDiagnostics diagnostics, int? seconds, string? format, CancellationToken ct) =>
        {
            var speedscope = !string.Equals(format, "nettrace", StringComparison.OrdinalIgnoreCase);
            var directory = diagnostics.CreateWorkDirectory();
            try
            {
                var path = await RuntimeDiagnostics.CpuTraceAsync(directory, seconds ?? 5, speedscope, ct).ConfigureAwait(false);
                return new FileThenDeleteResult(path, directory,
                    speedscope ? "application/json" : "application/octet-stream",
                    speedscope ? "cpu.speedscope.json" : "cpu.nettrace");
            }
            catch
            {
                RuntimeDiagnostics.DeleteWorkDirectory(directory);
                throw;
            }
        });

        group.MapGet("/dump", async (RuntimeDiagnostics diagnostics, string? type, CancellationToken ct) =>
        {
            var dumpType = (type ?? "heap").ToLowerInvariant() switch
            {
                "mini" or "normal" => DumpType.Normal,
                "triage" => DumpType.Triage,
                "full" => DumpType.Full,
                _ => DumpType.WithHeap,
            };
            var directory = diagnostics.CreateWorkDirectory();
            try
            {
                var path = await RuntimeDiagnostics.DumpAsync(directory, dumpType, ct).ConfigureAwait(false);
                return new FileThenDeleteResult(path, directory, "application/octet-stream", $"core.{Environment.ProcessId}.dmp");
            }
            catch
            {
                RuntimeDiagnostics.DeleteWorkDirectory(directory);
                throw;
            }
        });
        return group;
    }

    internal static bool TokenMatches(string authorization, byte[] expectedHash)
    {
        const string Scheme = "Bearer ";
        if (!authorization.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        var presented = SHA256.HashData(Encoding.UTF8.GetBytes(authorization[Scheme.Length..].Trim()));
        return CryptographicOperations.FixedTimeEquals(presented, expectedHash);
    }

    /// <summary>Streams a file, then deletes its work directory whatever happened.</summary>
    private sealed class FileThenDeleteResult(string path, string directory, string contentType, string downloadName) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            try
            {
                var length = new FileInfo(path).Length;
                httpContext.Response.ContentType = contentType;
                httpContext.Response.ContentLength = length;
                httpContext.Response.Headers.ContentDisposition = $"attachment; filename=\"{downloadName}\"";
                await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 16, FileOptions.Asynchronous);
                await file.CopyToAsync(httpContext.Response.Body, httpContext.RequestAborted).ConfigureAwait(false);
            }
            finally
            {
                RuntimeDiagnostics.DeleteWorkDirectory(directory);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 9001, EventName = "DiagnosticsDisabled", Level = LogLevel.Information,
            Message = "Runtime diagnostics on {AdminUrl} are disabled: Diagnostics:Token is not set (every /diagnostics request answers 404)")]
        public static partial void Disabled(ILogger logger, string adminUrl);

        [LoggerMessage(EventId = 9002, EventName = "DiagnosticsEnabled", Level = LogLevel.Information,
            Message = "Runtime diagnostics are served on {AdminUrl}/diagnostics (admin token required)")]
        public static partial void Enabled(ILogger logger, string adminUrl);
    }
}

/// <summary>Source-generated JSON metadata of the diagnostics artefacts.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(GcSummary))]
[JsonSerializable(typeof(ThreadsReport))]
[JsonSerializable(typeof(HeapHistogram))]
internal sealed partial class DiagnosticsJsonContext : JsonSerializerContext;
