using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Monitor.ManageService.Hosts;
using Monitor.ManageService.Liveness;
using Monitor.ManageService.Registry;
using Monitor.ServiceDefaults.Auth;

namespace Monitor.ManageService.Http;

/// <summary>The HTTP API under <c>/api/v1/manage</c>: JSON camelCase, RFC 3339 UTC, RFC 7807 problems naming the field.</summary>
internal static class ManageApi
{
    public const string Prefix = "/api/v1/manage";

    public static IEndpointRouteBuilder MapManageApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup(Prefix).WithTags("manage").AddEndpointFilter(TranslateErrors).WithMetadata(new RequireRoleAttribute(MonitorRole.Viewer));

        api.MapGet("/hosts", async (HostStore store, string? location, string? limit, string? cursor, CancellationToken ct) =>
        {
            var page = await store.ListAsync(location, ParseInt(limit, "limit"), cursor, ct).ConfigureAwait(false);
            return TypedResults.Ok(new HostPageDto(page.Hosts.Select(HostDto.From).ToList(), page.NextCursor));
        }).WithName("ListHosts").WithSummary("Lists registered hosts, optionally of one location, paged by limit/cursor.");

        api.MapGet("/hosts/{hostId}", async (HostStore store, string hostId, CancellationToken ct) =>
            TypedResults.Ok(HostDto.From(await store.GetAsync(hostId, ct).ConfigureAwait(false))))
            .WithName("GetHost").WithSummary("Returns one host.").ProducesProblem(404);

        api.MapPost("/hosts", async Task<Created<HostDto>> (HostStore store, HttpRequest request, CancellationToken ct) =>
        {
            var body = await ReadBodyAsync<CreateHostRequestDto>(request, ct).ConfigureAwait(false);
            var host = await store.CreateAsync(body.HostId, body.Location, body.Description, body.Labels, ct).ConfigureAwait(false);
            return TypedResults.Created($"{Prefix}/hosts/{Uri.EscapeDataString(host.HostId)}", HostDto.From(host));
        }).WithName("CreateHost").WithSummary("Registers a host.").Accepts<CreateHostRequestDto>("application/json")
            .ProducesValidationProblem().ProducesProblem(409).WithMetadata(new RequireRoleAttribute(MonitorRole.Editor));

        api.MapPatch("/hosts/{hostId}", async (HostStore store, string hostId, HttpRequest request, CancellationToken ct) =>
        {
            var body = await ReadBodyAsync<UpdateHostRequestDto>(request, ct).ConfigureAwait(false);
            var host = await store.UpdateAsync(hostId, body.Location, body.Description, body.Labels, ct).ConfigureAwait(false);
            return TypedResults.Ok(HostDto.From(host));
        }).WithName("UpdateHost").WithSummary("Changes a host's location, description or labels.").Accepts<UpdateHostRequestDto>("application/json")
            .ProducesValidationProblem().ProducesProblem(404).WithMetadata(new RequireRoleAttribute(MonitorRole.Editor));

        api.MapDelete("/hosts/{hostId}", async (HostStore store, string hostId, string? purgeData, CancellationToken ct) =>
        {
            var deletion = await store.DeleteAsync(hostId, ParseBool(purgeData, "purgeData"), ct).ConfigureAwait(false);
            return TypedResults.Ok(new HostDeletedDto(deletion.HostId, deletion.DeletedAt, deletion.DataPurged));
        }).WithName("DeleteHost").WithSummary("Decommissions a host (soft delete, announced in etcd); purgeData=true also drops its InfluxDB series.")
            .ProducesProblem(404).ProducesProblem(503).WithMetadata(new RequireRoleAttribute(MonitorRole.Editor));

        api.MapGet("/liveness", async (LivenessService liveness, string? state, string? location, CancellationToken ct) =>
        {
            var report = await liveness.ListAsync(ParseState(state), location, ct).ConfigureAwait(false);
            return TypedResults.Ok(new LivenessDto(report.Window.TotalSeconds, report.EvaluatedAt.UtcDateTime, report.Hosts.Select(HostLivenessDto.From).ToList()));
        }).WithName("ListHostLiveness").WithSummary("Liveness of every host: reporting, silent, unregistered, deletedButReporting.");

        api.MapGet("/not-managed-hosts", async (LivenessService liveness, CancellationToken ct) =>
        {
            var hosts = await liveness.FindNotManagedAsync(ct).ConfigureAwait(false);
            return TypedResults.Ok(new NotManagedHostsDto(hosts.Select(HostLivenessDto.From).ToList()));
        }).WithName("FindNotManagedHosts").WithSummary("Hosts that report data to InfluxDB but are not registered.");

        api.MapGet("/services", (ServiceRegistryView registry, string? kind) =>
            TypedResults.Ok(new ServiceInstancesDto(registry.Synced, registry.List(kind).Select(ServiceInstanceDto.From).ToList())))
            .WithName("ListServiceInstances").WithSummary("Every service instance registered in etcd, with lease state.");

        return app;
    }

    // Query values are parsed here rather than by binding, so that a bad value gets a problem body naming it.
    internal static int? ParseInt(string? value, string field) =>
        string.IsNullOrEmpty(value) ? null
        : int.TryParse(value, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n
        : throw ManageException.Invalid(field, "must be an integer");

    internal static bool ParseBool(string? value, string field)
    {
        if (string.IsNullOrEmpty(value))
        {
            return false;
        }
        return bool.TryParse(value, out var b) ? b : throw ManageException.Invalid(field, "must be true or false");
    }

    internal static LivenessState? ParseState(string? state) => state switch
    {
        null or "" => null,
        "reporting" => LivenessState.Reporting,
        "silent" => LivenessState.Silent,
        "unregistered" => LivenessState.Unregistered,
        "deletedButReporting" => LivenessState.DeletedButReporting,
        _ => throw ManageException.Invalid("state", "must be one of reporting, silent, unregistered, deletedButReporting"),
    };

    /// <summary>Reads a JSON body; malformed JSON becomes a 400 naming the JSON path where it failed.</summary>
    internal static async Task<T> ReadBodyAsync<T>(HttpRequest request, CancellationToken cancellationToken) where T : class
    {
        if (!request.HasJsonContentType())
        {
            throw ManageException.Invalid("body", "Content-Type must be application/json");
        }
        try
        {
            return await request.ReadFromJsonAsync<T>(cancellationToken).ConfigureAwait(false)
                ?? throw ManageException.Invalid("body", "must be a JSON object");
        }
        catch (JsonException ex)
        {
            var field = string.IsNullOrEmpty(ex.Path) || ex.Path == "$" ? "body" : ex.Path.TrimStart('$', '.');
            throw ManageException.Invalid(field, "is not valid JSON of the expected type");
        }
    }

    private static async ValueTask<object?> TranslateErrors(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context).ConfigureAwait(false);
        }
        catch (ManageException ex)
        {
            return ToProblem(ex);
        }
    }

    internal static IResult ToProblem(ManageException ex) => ex.Kind switch
    {
        ManageErrorKind.Invalid => TypedResults.ValidationProblem(
            new Dictionary<string, string[]> { [ex.Field ?? "body"] = [ex.Message] }, detail: ex.Message, title: "Invalid request"),
        ManageErrorKind.NotFound => TypedResults.Problem(ex.Message, statusCode: 404, title: "Host not found",
            extensions: new Dictionary<string, object?> { ["field"] = ex.Field }),
        ManageErrorKind.AlreadyExists => TypedResults.Problem(ex.Message, statusCode: 409, title: "Host already exists",
            extensions: new Dictionary<string, object?> { ["field"] = ex.Field }),
        _ => TypedResults.Problem(ex.Message, statusCode: 503, title: "A dependency is unavailable"),
    };
}
