using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Monitor.ManageService.Hosts;
using Monitor.ManageService.Http;
using Monitor.ServiceDefaults.Auth;

namespace Monitor.ManageService.Probes;

/// <summary>Which probers run a target: <c>mode</c> all | hosts | location | auto.</summary>
public sealed record ProbeAssignmentDto(string? Mode, IReadOnlyList<string>? HostIds, string? Location);

/// <summary>
/// Body of POST /api/v1/manage/probes/targets (and PATCH, where fields left out stay as they are). <c>config</c> is
/// the type's JSON object (see docs/probes.md); secrets sent as <c>***</c> keep the stored value.
/// </summary>
public sealed record ProbeTargetRequestDto(
    string? Name,
    string? Type,
    JsonObject? Config,
    long? IntervalMs,
    long? TimeoutMs,
    bool? Enabled,
    ProbeAssignmentDto? Assignment,
    IReadOnlyList<string>? Channels);

/// <summary>A target as the API returns it: secrets masked as <c>***</c>, status from the latest results.</summary>
public sealed record ProbeTargetDto(
    string Name,
    string Type,
    JsonObject Config,
    long IntervalMs,
    long TimeoutMs,
    bool Enabled,
    ProbeAssignmentDto Assignment,
    IReadOnlyList<string> Channels,
    long Version,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    string Status,
    string LastMessage,
    DateTime? LastResultAt)
{
    internal static ProbeTargetDto From(ProbeTarget t, ProbeStatus? status) => new(
        t.Name, t.Type, t.MaskedConfig(), t.IntervalMs, t.TimeoutMs, t.Enabled,
        new ProbeAssignmentDto(t.AssignmentMode, t.AssignmentHostIds, t.AssignmentLocation), t.Channels,
        t.Version, t.CreatedAt, t.UpdatedAt,
        status?.Status ?? (t.Enabled ? ProbeStatuses.Unknown : ProbeStatuses.Disabled),
        status?.Message ?? "", status?.LastResultAt?.UtcDateTime);
}

/// <summary>All targets, ordered by name.</summary>
public sealed record ProbeTargetListDto(IReadOnlyList<ProbeTargetDto> Items);

/// <summary>The HTTP API of probe targets under <c>/api/v1/manage/probes/targets</c>.</summary>
internal static class ProbeApi
{
    public const string Path = ManageApi.Prefix + "/probes/targets";

    public static IEndpointRouteBuilder MapProbeApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup(Path).WithTags("probes").AddEndpointFilter(TranslateErrors).WithMetadata(new RequireRoleAttribute(MonitorRole.Viewer));

        api.MapGet("/", async (ProbeTargetStore store, ProbeStatusReader status, CancellationToken ct) =>
        {
            var targets = await store.ListAsync(ct).ConfigureAwait(false);
            var statuses = await status.ReadAsync(targets, ct).ConfigureAwait(false);
            return TypedResults.Ok(new ProbeTargetListDto(targets.Select(t => ProbeTargetDto.From(t, statuses.GetValueOrDefault(t.Name))).ToList()));
        }).WithName("ListProbeTargets").WithSummary("Lists every probe target (secrets masked) with its status.");

        api.MapGet("/{name}", async (ProbeTargetStore store, ProbeStatusReader status, string name, CancellationToken ct) =>
        {
            var target = await store.GetAsync(name, ct).ConfigureAwait(false);
            var statuses = await status.ReadAsync([target], ct).ConfigureAwait(false);
            return TypedResults.Ok(ProbeTargetDto.From(target, statuses.GetValueOrDefault(target.Name)));
        }).WithName("GetProbeTarget").WithSummary("Returns one probe target (secrets masked) with its status and last result message.").ProducesProblem(404);

        api.MapPost("/", async Task<Created<ProbeTargetDto>> (ProbeTargetStore store, HttpRequest request, CancellationToken ct) =>
        {
            var body = await ManageApi.ReadBodyAsync<ProbeTargetRequestDto>(request, ct).ConfigureAwait(false);
            var target = await store.CreateAsync(ToInput(body), ct).ConfigureAwait(false);
            return TypedResults.Created($"{Path}/{Uri.EscapeDataString(target.Name)}", ProbeTargetDto.From(target, null));
        }).WithName("CreateProbeTarget").WithSummary("Creates a probe target; 400 names the invalid field.").Accepts<ProbeTargetRequestDto>("application/json")
            .ProducesValidationProblem().ProducesProblem(409).WithMetadata(new RequireRoleAttribute(MonitorRole.Editor));

        api.MapPatch("/{name}", async (ProbeTargetStore store, string name, HttpRequest request, CancellationToken ct) =>
        {
            var body = await ManageApi.ReadBodyAsync<ProbeTargetRequestDto>(request, ct).ConfigureAwait(false);
            var target = await store.UpdateAsync(name, ToInput(body), replace: false, ct).ConfigureAwait(false);
            return TypedResults.Ok(ProbeTargetDto.From(target, null));
        }).WithName("UpdateProbeTarget").WithSummary("Changes a probe target (fields left out stay; enabled=false pauses it).").Accepts<ProbeTargetRequestDto>("application/json")
            .ProducesValidationProblem().ProducesProblem(404).WithMetadata(new RequireRoleAttribute(MonitorRole.Editor));

        api.MapDelete("/{name}", async (ProbeTargetStore store, string name, CancellationToken ct) =>
        {
            await store.DeleteAsync(name, ct).ConfigureAwait(false);
            return TypedResults.NoContent();
        }).WithName("DeleteProbeTarget").WithSummary("Deletes a probe target.").ProducesProblem(404).WithMetadata(new RequireRoleAttribute(MonitorRole.Editor));

        return app;
    }

    private static ProbeTargetInput ToInput(ProbeTargetRequestDto body) => new(
        body.Name, body.Type, body.Config, body.IntervalMs, body.TimeoutMs, body.Enabled,
        body.Assignment is null ? null : new AssignmentInput(body.Assignment.Mode, body.Assignment.HostIds, body.Assignment.Location),
        body.Channels);

    private static async ValueTask<object?> TranslateErrors(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context).ConfigureAwait(false);
        }
        catch (ManageException ex)
        {
            return ex.Kind switch
            {
                ManageErrorKind.Invalid => TypedResults.ValidationProblem(
                    new Dictionary<string, string[]> { [ex.Field ?? "body"] = [ex.Message] }, detail: ex.Message, title: "Invalid request"),
                ManageErrorKind.NotFound => TypedResults.Problem(ex.Message, statusCode: 404, title: "Target not found"),
                ManageErrorKind.AlreadyExists => TypedResults.Problem(ex.Message, statusCode: 409, title: "Target already exists"),
                _ => TypedResults.Problem(ex.Message, statusCode: 503, title: "A dependency is unavailable"),
            };
        }
    }
}
