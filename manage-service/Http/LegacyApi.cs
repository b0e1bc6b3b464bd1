using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Monitor.ManageService.Data;
using Monitor.ManageService.Hosts;
using Monitor.ManageService.Liveness;
using Monitor.ServiceDefaults.Auth;

namespace Monitor.ManageService.Http;

/// <summary>One host in the original system's shape (GORM model fields, PascalCase).</summary>
internal sealed record LegacyHost(
    [property: JsonPropertyName("ID")] long Id,
    [property: JsonPropertyName("CreatedAt")] string CreatedAt,
    [property: JsonPropertyName("UpdatedAt")] string UpdatedAt,
    [property: JsonPropertyName("DeletedAt")] string? DeletedAt,
    [property: JsonPropertyName("HostID")] string HostId,
    [property: JsonPropertyName("Location")] string Location);

/// <summary>The original's upper-case envelope: <c>{"CODE":..,"MSG":..,"DATA":..}</c>.</summary>
internal sealed record LegacyEnvelope(
    [property: JsonPropertyName("CODE")] int Code,
    [property: JsonPropertyName("MSG")] string Msg,
    [property: JsonPropertyName("DATA")] object? Data);

/// <summary>The original's lower-case envelope of <c>PUT /host</c>: <c>{"code":..,"data":..,"msg":..}</c>.</summary>
internal sealed record LegacyUpdateEnvelope(
    [property: JsonPropertyName("code")] int Code,
    [property: JsonPropertyName("data")] string? Data,
    [property: JsonPropertyName("msg")] string Msg);

/// <summary>Body of the original's <c>POST /host</c> and <c>PUT /host</c>.</summary>
internal sealed record LegacyHostBody(
    [property: JsonPropertyName("HostID")] string? HostId,
    [property: JsonPropertyName("Location")] string? Location);

/// <summary>
/// The original system's HTTP API, served at the root (nginx maps <c>/setting/x</c> → <c>/x</c>): same paths and JSON
/// shapes, dates RFC 3339 with the server's local offset. Unlike the original, failures answer with their real HTTP
/// status (same envelope, <c>CODE</c> = status).
/// </summary>
internal static class LegacyApi
{
    internal static readonly JsonSerializerOptions Json = new()
    {
        // The original wrote non-ASCII text (e.g. "更新成功") and quotes as they are, not as \u escapes; JSON only, never HTML.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        PropertyNameCaseInsensitive = true,
    };

    public static IEndpointRouteBuilder MapLegacyHostApi(this IEndpointRouteBuilder app)
    {
        var legacy = app.MapGroup("").WithTags("legacy").WithMetadata(new RequireRoleAttribute(MonitorRole.Viewer));

        legacy.MapGet("/host", async (HostStore store, TimeProvider time, CancellationToken ct) =>
        {
            try
            {
                var hosts = await store.ListAllAsync(ct).ConfigureAwait(false);
                return Envelope(200, "Find success!", hosts.Select(h => ToLegacy(h, time.LocalTimeZone)).ToList());
            }
            catch (ManageException ex)
            {
                return Envelope(StatusOf(ex), ex.Message, null);
            }
        }).WithSummary("Original API: every registered host.");

        legacy.MapPost("/host", async (HostStore store, HttpRequest request, CancellationToken ct) =>
        {
            try
            {
                var body = await ReadAsync(request, ct).ConfigureAwait(false);
                await store.CreateAsync(body.HostId, body.Location, null, null, ct).ConfigureAwait(false);
                return Envelope(200, "Insert success!", new Dictionary<string, int> { ["num"] = 1 });
            }
            catch (ManageException ex)
            {
                return Envelope(StatusOf(ex), ex.Message, null);
            }
        }).WithSummary("Original API: registers a host.").WithMetadata(new RequireRoleAttribute(MonitorRole.Editor));

        legacy.MapPut("/host", async (HostStore store, HttpRequest request, CancellationToken ct) =>
        {
            try
            {
                var body = await ReadAsync(request, ct).ConfigureAwait(false);
                if (body.Location is null)
                {
                    throw ManageException.Invalid("Location", "is required");
                }
                await store.UpdateAsync(body.HostId, body.Location, null, null, ct).ConfigureAwait(false);
                return Results.Json(new LegacyUpdateEnvelope(200, "ok", "更新成功"), Json, statusCode: 200);
            }
            catch (ManageException ex)
            {
                var status = StatusOf(ex);
                return Results.Json(new LegacyUpdateEnvelope(status, null, ex.Message), Json, statusCode: status);
            }
        }).WithSummary("Original API: changes a host's location.").WithMetadata(new RequireRoleAttribute(MonitorRole.Editor));

        legacy.MapGet("/host/manage", async (LivenessService liveness, CancellationToken ct) =>
        {
            try
            {
                var hosts = await liveness.FindNotManagedAsync(ct).ConfigureAwait(false);
                return Envelope(200, "Find success!", hosts.Select(h => h.HostId).ToList());
            }
            catch (ManageException ex)
            {
                return Envelope(StatusOf(ex), ex.Message, null);
            }
        }).WithSummary("Original API: host ids that report data but are not registered.");

        return app;
    }

    internal static LegacyHost ToLegacy(HostEntity h, TimeZoneInfo zone) =>
        new(h.Id, FormatLocal(h.CreatedAt, zone), FormatLocal(h.UpdatedAt, zone), h.DeletedAt is { } d ? FormatLocal(d, zone) : null, h.HostId, h.Location);

    /// <summary>RFC 3339 with the zone's offset, as Go's <c>time.Time</c> marshals: fraction without trailing zeros, <c>Z</c> for UTC.</summary>
    internal static string FormatLocal(DateTime utc, TimeZoneInfo zone)
    {
        var local = TimeZoneInfo.ConvertTime(new DateTimeOffset(DateTime.SpecifyKind(utc, DateTimeKind.Utc)), zone);
        var text = local.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture);
        return local.Offset == TimeSpan.Zero ? text + "Z" : text + local.ToString("zzz", CultureInfo.InvariantCulture);
    }

    private static IResult Envelope(int status, string message, object? data) =>
        Results.Json(new LegacyEnvelope(status, message, data), Json, statusCode: status);

    private static int StatusOf(ManageException ex) => ex.Kind switch
    {
        ManageErrorKind.Invalid => 400,
        ManageErrorKind.NotFound => 404,
        ManageErrorKind.AlreadyExists => 409,
        _ => 503,
    };

    private static async Task<LegacyHostBody> ReadAsync(HttpRequest request, CancellationToken ct)
    {
        try
        {
            return await request.ReadFromJsonAsync<LegacyHostBody>(Json, ct).ConfigureAwait(false)
                ?? throw ManageException.Invalid("body", "must be a JSON object");
        }
        catch (JsonException)
        {
            throw ManageException.Invalid("body", "must be JSON like {\"HostID\":\"..\",\"Location\":\"..\"}");
        }
        catch (InvalidOperationException)
        {
            throw ManageException.Invalid("body", "Content-Type must be application/json");
        }
    }
}
