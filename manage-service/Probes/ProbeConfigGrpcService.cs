using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Monitor.ManageService.Hosts;
using Monitor.Protos.V1;
using Monitor.ServiceDefaults.Auth;
using ProtoTarget = Monitor.Protos.V1.ProbeTarget;

namespace Monitor.ManageService.Probes;

/// <summary>
/// <c>monitor.v1.ProbeConfigService</c>: the probers' target stream (agent tokens) and target CRUD (viewer reads,
/// editor changes).
/// </summary>
[RequireRole(MonitorRole.Viewer)]
internal sealed partial class ProbeConfigGrpcService(
    IServiceScopeFactory scopes,
    ProbeTargetCache cache,
    ProbeChangeNotifier notifier,
    ProberSet probers,
    SecretProtector protector,
    IOptions<ProbeOptions> options,
    TimeProvider timeProvider,
    ILogger<ProbeConfigGrpcService> logger) : ProbeConfigService.ProbeConfigServiceBase
{
    [RequireAgent]
    public override async Task WatchTargets(WatchTargetsRequest request, IServerStreamWriter<TargetSet> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        var ct = context.CancellationToken;
        await Run(async () =>
        {
            HostValidator.ValidateHostId(request.HostId, "host_id");
            HostValidator.ValidateLocation(request.Location, "location");
            return 0;
        }).ConfigureAwait(false);
        var principal = MonitorPrincipal.Of(context.GetHttpContext());
        if (principal is { Kind: PrincipalKind.Agent, HostId: { } only } && only != request.HostId)
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied, "this agent token may only watch the targets of its own host"));
        }
        var location = request.Location;
        if (location.Length == 0)
        {
            location = await RegisteredLocationAsync(request.HostId, ct).ConfigureAwait(false);
        }
        using var registration = probers.Register(new ProberInfo(request.HostId, location, request.ProberVersion));
        Log.ProberConnected(logger, request.HostId, location, request.ProberVersion);
        ByteString? lastSent = null;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var change = notifier.NextChange;
                var snapshot = await Run(() => cache.GetAsync(ct)).ConfigureAwait(false);
                var set = BuildSet(snapshot, request.HostId, location, probers.ConnectedHostIds());
                // Compare without the revision: a change elsewhere that does not affect this prober sends nothing.
                var content = new TargetSet { Targets = { set.Targets } }.ToByteString();
                if (lastSent is null || !lastSent.Equals(content))
                {
                    await responseStream.WriteAsync(set, ct).ConfigureAwait(false);
                    lastSent = content;
                    Log.SetSent(logger, request.HostId, set.Targets.Count, set.Revision);
                }
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(ct);
                var resync = Task.Delay(options.Value.ResyncInterval, timeProvider, wait.Token);
                await Task.WhenAny(change, resync).ConfigureAwait(false);
                await wait.CancelAsync().ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        finally
        {
            Log.ProberDisconnected(logger, request.HostId);
        }
    }

    public override async Task<ListTargetsResponse> ListTargets(ListTargetsRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        await using var scope = scopes.CreateAsyncScope();
        var store = scope.ServiceProvider.GetRequiredService<ProbeTargetStore>();
        var targets = await Run(() => store.ListAsync(context.CancellationToken)).ConfigureAwait(false);
        var statuses = await scope.ServiceProvider.GetRequiredService<ProbeStatusReader>().ReadAsync(targets, context.CancellationToken).ConfigureAwait(false);
        var response = new ListTargetsResponse();
        response.Targets.AddRange(targets.Select(t => ToProto(t, t.MaskedConfig(), statuses.GetValueOrDefault(t.Name))));
        return response;
    }

    public override async Task<GetTargetResponse> GetTarget(GetTargetRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        await using var scope = scopes.CreateAsyncScope();
        var target = await Run(() => scope.ServiceProvider.GetRequiredService<ProbeTargetStore>().GetAsync(request.Name, context.CancellationToken)).ConfigureAwait(false);
        var statuses = await scope.ServiceProvider.GetRequiredService<ProbeStatusReader>().ReadAsync([target], context.CancellationToken).ConfigureAwait(false);
        return new GetTargetResponse { Target = ToProto(target, target.MaskedConfig(), statuses.GetValueOrDefault(target.Name)) };
    }

    [RequireRole(MonitorRole.Editor)]
    public override async Task<CreateTargetResponse> CreateTarget(CreateTargetRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        await using var scope = scopes.CreateAsyncScope();
        var input = FromProto(request.Spec ?? ThrowInvalid<ProbeTargetSpec>("spec", "is required"));
        var target = await Run(() => scope.ServiceProvider.GetRequiredService<ProbeTargetStore>().CreateAsync(input, context.CancellationToken)).ConfigureAwait(false);
        return new CreateTargetResponse { Target = ToProto(target, target.MaskedConfig(), null) };
    }

    [RequireRole(MonitorRole.Editor)]
    public override async Task<UpdateTargetResponse> UpdateTarget(UpdateTargetRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        await using var scope = scopes.CreateAsyncScope();
        var input = FromProto(request.Spec ?? ThrowInvalid<ProbeTargetSpec>("spec", "is required"));
        var target = await Run(() => scope.ServiceProvider.GetRequiredService<ProbeTargetStore>().UpdateAsync(input.Name, input, replace: true, context.CancellationToken)).ConfigureAwait(false);
        return new UpdateTargetResponse { Target = ToProto(target, target.MaskedConfig(), null) };
    }

    [RequireRole(MonitorRole.Editor)]
    public override async Task<DeleteTargetResponse> DeleteTarget(DeleteTargetRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        await using var scope = scopes.CreateAsyncScope();
        await Run(async () =>
        {
            await scope.ServiceProvider.GetRequiredService<ProbeTargetStore>().DeleteAsync(request.Name, context.CancellationToken).ConfigureAwait(false);
            return 0;
        }).ConfigureAwait(false);
        return new DeleteTargetResponse();
    }

    /// <summary>The set for one prober: its enabled, assigned targets, secrets in clear text.</summary>
    internal TargetSet BuildSet(ProbeSnapshot snapshot, string hostId, string location, IReadOnlyCollection<string> connected)
    {
        var set = new TargetSet { Revision = snapshot.Revision };
        foreach (var target in snapshot.Targets)
        {
            if (ProbeAssignmentRules.IsAssigned(target, hostId, location, connected))
            {
                set.Targets.Add(ToProto(target, target.RevealedConfig(protector), null));
            }
        }
        return set;
    }

    internal static ProtoTarget ToProto(ProbeTarget t, JsonObject config, ProbeStatus? status)
    {
        var spec = new ProbeTargetSpec
        {
            Name = t.Name,
            Type = t.Type,
            ConfigJson = config.ToJsonString(),
            IntervalMs = t.IntervalMs,
            TimeoutMs = t.TimeoutMs,
            Enabled = t.Enabled,
            Assignment = new ProbeAssignment
            {
                Mode = t.AssignmentMode switch
                {
                    AssignmentModes.All => ProbeAssignmentMode.All,
                    AssignmentModes.Hosts => ProbeAssignmentMode.Hosts,
                    AssignmentModes.Location => ProbeAssignmentMode.Location,
                    _ => ProbeAssignmentMode.Auto,
                },
                HostIds = { t.AssignmentHostIds },
                Location = t.AssignmentLocation,
            },
            Channels = { t.Channels },
        };
        var proto = new ProtoTarget
        {
            Spec = spec,
            Version = t.Version,
            CreatedAt = Timestamp.FromDateTime(t.CreatedAt),
            UpdatedAt = Timestamp.FromDateTime(t.UpdatedAt),
        };
        if (status is not null)
        {
            proto.Status = status.Status;
            proto.LastMessage = status.Message;
            proto.LastResultAt = status.LastResultAt is { } at ? Timestamp.FromDateTimeOffset(at) : null;
        }
        return proto;
    }

    private static ProbeTargetInput FromProto(ProbeTargetSpec spec)
    {
        JsonNode? config;
        try
        {
            config = string.IsNullOrWhiteSpace(spec.ConfigJson) ? null : JsonNode.Parse(spec.ConfigJson);
        }
        catch (System.Text.Json.JsonException)
        {
            return ThrowInvalid<ProbeTargetInput>("config_json", "is not valid JSON");
        }
        var mode = spec.Assignment?.Mode switch
        {
            null or ProbeAssignmentMode.Unspecified => null,
            ProbeAssignmentMode.All => AssignmentModes.All,
            ProbeAssignmentMode.Hosts => AssignmentModes.Hosts,
            ProbeAssignmentMode.Location => AssignmentModes.Location,
            ProbeAssignmentMode.Auto => AssignmentModes.Auto,
            _ => ThrowInvalid<string>("assignment.mode", "is not a known mode"),
        };
        return new ProbeTargetInput(
            spec.Name, spec.Type, config, spec.IntervalMs, spec.TimeoutMs, spec.Enabled,
            new AssignmentInput(mode, spec.Assignment?.HostIds.ToList(), spec.Assignment?.Location),
            spec.Channels.ToList());
    }

    private async Task<string> RegisteredLocationAsync(string hostId, CancellationToken cancellationToken)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var host = await scope.ServiceProvider.GetRequiredService<HostStore>().GetAsync(hostId, cancellationToken).ConfigureAwait(false);
            return host.Location;
        }
        catch (ManageException)
        {
            return ""; // not registered (or the database is down): location-assigned targets do not apply
        }
    }

    private static async Task<T> Run<T>(Func<Task<T>> operation)
    {
        try
        {
            return await operation().ConfigureAwait(false);
        }
        catch (ManageException ex)
        {
            ThrowRpc(ex);
            throw; // unreachable
        }
    }

    [DoesNotReturn]
    private static void ThrowRpc(ManageException ex) =>
        throw new RpcException(new Status(ex.Kind switch
        {
            ManageErrorKind.Invalid => StatusCode.InvalidArgument,
            ManageErrorKind.NotFound => StatusCode.NotFound,
            ManageErrorKind.AlreadyExists => StatusCode.AlreadyExists,
            _ => StatusCode.Unavailable,
        }, ex.Message));

    [DoesNotReturn]
    private static T ThrowInvalid<T>(string field, string message) =>
        throw new RpcException(new Status(StatusCode.InvalidArgument, $"{field}: {message}"));

    private static partial class Log
    {
        [LoggerMessage(EventId = 6140, EventName = "ProberConnected", Level = LogLevel.Information, Message = "Prober {HostId} (location '{Location}', version '{Version}') watches its targets")]
        public static partial void ProberConnected(ILogger logger, string hostId, string location, string version);

        [LoggerMessage(EventId = 6141, EventName = "ProberDisconnected", Level = LogLevel.Information, Message = "Prober {HostId} stopped watching")]
        public static partial void ProberDisconnected(ILogger logger, string hostId);

        [LoggerMessage(EventId = 6142, EventName = "ProbeTargetSetSent", Level = LogLevel.Debug, Message = "Sent {Count} target(s) to prober {HostId} (revision {Revision})")]
        public static partial void SetSent(ILogger logger, string hostId, int count, long revision);
    }
}
