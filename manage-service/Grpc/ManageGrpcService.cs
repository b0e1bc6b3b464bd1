using System.Diagnostics.CodeAnalysis;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Monitor.ManageService.Data;
using Monitor.ManageService.Hosts;
using Monitor.ManageService.Liveness;
using Monitor.ManageService.Registry;
using Monitor.Protos.V1;
using Monitor.ServiceDefaults.Auth;
using Host = Monitor.Protos.V1.Host;

namespace Monitor.ManageService.Grpc;

/// <summary>The manage service's gRPC API (<c>monitor.v1.ManageService</c>).</summary>
[RequireRole(MonitorRole.Viewer)]
internal sealed class ManageGrpcService(HostStore store, LivenessService liveness, ServiceRegistryView registry) : Protos.V1.ManageService.ManageServiceBase
{
    public override async Task<ListHostsResponse> ListHosts(ListHostsRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var page = await Run(() => store.ListAsync(request.Location, request.PageSize, request.PageToken, context.CancellationToken, "page_size", "page_token")).ConfigureAwait(false);
        var response = new ListHostsResponse { NextPageToken = page.NextCursor ?? "" };
        response.Hosts.AddRange(page.Hosts.Select(ToProto));
        return response;
    }

    public override async Task<GetHostResponse> GetHost(GetHostRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var host = await Run(() => store.GetAsync(request.HostId, context.CancellationToken)).ConfigureAwait(false);
        return new GetHostResponse { Host = ToProto(host) };
    }

    [RequireRole(MonitorRole.Editor)]
    public override async Task<CreateHostResponse> CreateHost(CreateHostRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var host = await Run(() => store.CreateAsync(request.HostId, request.Location, request.Description, request.Labels, context.CancellationToken)).ConfigureAwait(false);
        return new CreateHostResponse { Host = ToProto(host) };
    }

    [RequireRole(MonitorRole.Editor)]
    public override async Task<UpdateHostResponse> UpdateHost(UpdateHostRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var host = await Run(() => store.UpdateAsync(
            request.HostId,
            request.HasLocation ? request.Location : null,
            request.HasDescription ? request.Description : null,
            request.ReplaceLabels ? request.Labels : null,
            context.CancellationToken)).ConfigureAwait(false);
        return new UpdateHostResponse { Host = ToProto(host) };
    }

    [RequireRole(MonitorRole.Editor)]
    public override async Task<DeleteHostResponse> DeleteHost(DeleteHostRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var deletion = await Run(() => store.DeleteAsync(request.HostId, request.PurgeData, context.CancellationToken)).ConfigureAwait(false);
        return new DeleteHostResponse { DeletedAt = Timestamp.FromDateTime(deletion.DeletedAt), DataPurged = deletion.DataPurged };
    }

    public override async Task<ListHostLivenessResponse> ListHostLiveness(ListHostLivenessRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var report = await Run(() => liveness.ListAsync(FromProto(request.State), request.Location, context.CancellationToken)).ConfigureAwait(false);
        var response = new ListHostLivenessResponse
        {
            WindowMs = (long)report.Window.TotalMilliseconds,
            EvaluatedAt = Timestamp.FromDateTimeOffset(report.EvaluatedAt),
        };
        response.Hosts.AddRange(report.Hosts.Select(ToProto));
        return response;
    }

    public override async Task<FindNotManagedHostsResponse> FindNotManagedHosts(FindNotManagedHostsRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var hosts = await Run(() => liveness.FindNotManagedAsync(context.CancellationToken)).ConfigureAwait(false);
        var response = new FindNotManagedHostsResponse();
        response.Hosts.AddRange(hosts.Select(ToProto));
        return response;
    }

    public override Task<ListServiceInstancesResponse> ListServiceInstances(ListServiceInstancesRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        var response = new ListServiceInstancesResponse { Synced = registry.Synced };
        response.Instances.AddRange(registry.List(request.Kind).Select(i => new ServiceInstance
        {
            Kind = i.Kind,
            InstanceId = i.InstanceId,
            GrpcUrl = i.GrpcUrl ?? "",
            HttpUrl = i.HttpUrl ?? "",
            AdminUrl = i.AdminUrl ?? "",
            Version = i.Version ?? "",
            StartedAt = i.StartedAt is { } s ? Timestamp.FromDateTimeOffset(s) : null,
            LeaseAlive = i.LeaseAlive,
            LeaseId = i.LeaseId,
            GoneAt = i.GoneAt is { } g ? Timestamp.FromDateTimeOffset(g) : null,
            Key = i.Key,
        }));
        return Task.FromResult(response);
    }

    internal static Host ToProto(HostEntity h)
    {
        var host = new Host
        {
            HostId = h.HostId,
            Location = h.Location,
            Description = h.Description,
            CreatedAt = Timestamp.FromDateTime(h.CreatedAt),
            UpdatedAt = Timestamp.FromDateTime(h.UpdatedAt),
        };
        host.Labels.Add(h.Labels);
        return host;
    }

    private static HostLiveness ToProto(HostLivenessEntry e) => new()
    {
        HostId = e.HostId,
        State = e.State switch
        {
            LivenessState.Reporting => HostLivenessState.Reporting,
            LivenessState.Silent => HostLivenessState.Silent,
            LivenessState.Unregistered => HostLivenessState.Unregistered,
            _ => HostLivenessState.DeletedButReporting,
        },
        Location = e.Location ?? "",
        LastSeenAt = e.LastSeenAt is { } seen ? Timestamp.FromDateTimeOffset(seen) : null,
        SilentSince = e.SilentSince is { } since ? Timestamp.FromDateTimeOffset(since) : null,
        DeletedAt = e.DeletedAt is { } deleted ? Timestamp.FromDateTimeOffset(deleted) : null,
    };

    private static LivenessState? FromProto(HostLivenessState state) => state switch
    {
        HostLivenessState.Unspecified => null,
        HostLivenessState.Reporting => LivenessState.Reporting,
        HostLivenessState.Silent => LivenessState.Silent,
        HostLivenessState.Unregistered => LivenessState.Unregistered,
        HostLivenessState.DeletedButReporting => LivenessState.DeletedButReporting,
        _ => ThrowInvalid("state", $"unknown state {(int)state}"),
    };

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
    private static LivenessState? ThrowInvalid(string field, string message) =>
        throw new RpcException(new Status(StatusCode.InvalidArgument, $"{field}: {message}"));
}
