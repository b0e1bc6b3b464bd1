using System.Text.Json.Serialization;
using Monitor.ManageService.Data;
using Monitor.ManageService.Liveness;
using Monitor.ManageService.Registry;

namespace Monitor.ManageService.Http;

/// <summary>A registered host. Times are RFC 3339 UTC.</summary>
public sealed record HostDto(string HostId, string Location, string Description, IReadOnlyDictionary<string, string> Labels, DateTime CreatedAt, DateTime UpdatedAt)
{
    internal static HostDto From(HostEntity h) => new(h.HostId, h.Location, h.Description, h.Labels, h.CreatedAt, h.UpdatedAt);
}

/// <summary>A page of hosts, ordered by host id; pass <c>nextCursor</c> as <c>cursor</c> for the next page (null: last page).</summary>
public sealed record HostPageDto(IReadOnlyList<HostDto> Items, string? NextCursor);

/// <summary>Body of POST /api/v1/manage/hosts.</summary>
public sealed record CreateHostRequestDto(string? HostId, string? Location, string? Description, Dictionary<string, string>? Labels);

/// <summary>Body of PATCH /api/v1/manage/hosts/{hostId}: fields left out (or null) are unchanged; <c>labels</c> replaces all labels.</summary>
public sealed record UpdateHostRequestDto(string? Location, string? Description, Dictionary<string, string>? Labels);

/// <summary>Result of DELETE /api/v1/manage/hosts/{hostId}.</summary>
public sealed record HostDeletedDto(string HostId, DateTime DeletedAt, bool DataPurged);

/// <summary>Liveness state of a host.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<LivenessStateDto>))]
public enum LivenessStateDto
{
    /// <summary>Registered, data within the window.</summary>
    [JsonStringEnumMemberName("reporting")] Reporting,
    /// <summary>Registered, no data within the window.</summary>
    [JsonStringEnumMemberName("silent")] Silent,
    /// <summary>Reports data, not registered.</summary>
    [JsonStringEnumMemberName("unregistered")] Unregistered,
    /// <summary>Deleted, still reports data.</summary>
    [JsonStringEnumMemberName("deletedButReporting")] DeletedButReporting,
}

/// <summary>Liveness of one host. Times are RFC 3339 UTC; null when unknown or not applicable.</summary>
public sealed record HostLivenessDto(string HostId, LivenessStateDto State, string? Location, DateTime? LastSeenAt, DateTime? SilentSince, DateTime? DeletedAt)
{
    internal static HostLivenessDto From(HostLivenessEntry e) => new(e.HostId, (LivenessStateDto)e.State, e.Location,
        e.LastSeenAt?.UtcDateTime, e.SilentSince?.UtcDateTime, e.DeletedAt?.UtcDateTime);
}

/// <summary>Liveness listing: the window (seconds) and when InfluxDB was last read.</summary>
public sealed record LivenessDto(double WindowSeconds, DateTime EvaluatedAt, IReadOnlyList<HostLivenessDto> Hosts);

/// <summary>Hosts that report data without being registered.</summary>
public sealed record NotManagedHostsDto(IReadOnlyList<HostLivenessDto> Hosts);

/// <summary>A service instance registered in etcd (or gone recently: <c>leaseAlive</c> false, <c>goneAt</c> set).</summary>
public sealed record ServiceInstanceDto(string Kind, string InstanceId, string? GrpcUrl, string? HttpUrl, string? AdminUrl, string? Version,
    DateTime? StartedAt, bool LeaseAlive, long LeaseId, DateTime? GoneAt, string Key)
{
    internal static ServiceInstanceDto From(ServiceInstanceInfo i) => new(i.Kind, i.InstanceId, i.GrpcUrl, i.HttpUrl, i.AdminUrl, i.Version,
        i.StartedAt?.UtcDateTime, i.LeaseAlive, i.LeaseId, i.GoneAt?.UtcDateTime, i.Key);
}

/// <summary>The registry view; <c>synced</c> is false while the etcd watch is down (the list may be stale).</summary>
public sealed record ServiceInstancesDto(bool Synced, IReadOnlyList<ServiceInstanceDto> Instances);
