using System.Text.Json.Serialization;

namespace Monitor.ServiceDefaults.Discovery;

/// <summary>The value stored in etcd under <c>/monitor/services/{kind}/{instance}</c>.</summary>
/// <param name="Grpc">gRPC URL, or null.</param>
/// <param name="Http">HTTP URL.</param>
/// <param name="Admin">Admin URL, or null.</param>
/// <param name="Version">Service version.</param>
/// <param name="StartedAt">Start time (UTC).</param>
public sealed record ServiceRecord(string? Grpc, string Http, string? Admin, string Version, DateTimeOffset StartedAt);

/// <summary>Source-generated JSON metadata for discovery records (camelCase).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ServiceRecord))]
public sealed partial class DiscoveryJsonContext : JsonSerializerContext;
