using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using Grpc.Core;
using Monitor.Protos.V1;
using Monitor.ServiceDefaults.Auth;
using Monitor.WarningService.Api;
using Monitor.WarningService.Data;
using Monitor.WarningService.Rules;
using ProtoRule = Monitor.Protos.V1.Rule;
using RuleSpec = Monitor.WarningService.Rules.RuleSpec;

namespace Monitor.WarningService.Grpc;

/// <summary>The gRPC face of the same operations as the HTTP API.</summary>
[RequireRole(MonitorRole.Viewer)]
internal sealed class WarningGrpcService(RuleService rules, AlertService alerts) : Protos.V1.WarningService.WarningServiceBase
{
    public override async Task<ListRulesResponse> ListRules(ListRulesRequest request, ServerCallContext context)
    {
        var response = new ListRulesResponse();
        response.Rules.AddRange((await rules.ListAsync(context.CancellationToken).ConfigureAwait(false)).Select(ToProto));
        return response;
    }

    public override async Task<GetRuleResponse> GetRule(GetRuleRequest request, ServerCallContext context)
    {
        var rule = await rules.GetAsync(request.Id, context.CancellationToken).ConfigureAwait(false);
        if (rule is null)
        {
            ThrowNotFound("rule", request.Id);
        }
        return new GetRuleResponse { Rule = ToProto(rule) };
    }

    [RequireRole(MonitorRole.Editor)]
    public override async Task<CreateRuleResponse> CreateRule(CreateRuleRequest request, ServerCallContext context)
    {
        var change = await rules.CreateAsync(FromProto(request.Spec), Caller(context), context.CancellationToken).ConfigureAwait(false);
        return new CreateRuleResponse { Rule = ToProto(Check(change, 0)) };
    }

    [RequireRole(MonitorRole.Editor)]
    public override async Task<UpdateRuleResponse> UpdateRule(UpdateRuleRequest request, ServerCallContext context)
    {
        var change = await rules.UpdateAsync(request.Id, FromProto(request.Spec), Caller(context), context.CancellationToken).ConfigureAwait(false);
        return new UpdateRuleResponse { Rule = ToProto(Check(change, request.Id)) };
    }

    [RequireRole(MonitorRole.Editor)]
    public override async Task<DeleteRuleResponse> DeleteRule(DeleteRuleRequest request, ServerCallContext context)
    {
        if (!await rules.DeleteAsync(request.Id, Caller(context), context.CancellationToken).ConfigureAwait(false))
        {
            ThrowNotFound("rule", request.Id);
        }
        return new DeleteRuleResponse();
    }

    public override async Task<ListAlertsResponse> ListAlerts(ListAlertsRequest request, ServerCallContext context)
    {
        var rows = await alerts.ListAsync(request.State, request.RuleId, request.HostId, request.Limit <= 0 ? 100 : request.Limit, long.MaxValue, context.CancellationToken).ConfigureAwait(false);
        var response = new ListAlertsResponse();
        response.Alerts.AddRange(rows.Select(ToProto));
        return response;
    }

    [RequireRole(MonitorRole.Editor)]
    public override async Task<AcknowledgeAlertResponse> AcknowledgeAlert(AcknowledgeAlertRequest request, ServerCallContext context)
    {
        var by = string.IsNullOrWhiteSpace(request.By) ? Caller(context) : request.By[..Math.Min(128, request.By.Length)];
        var alert = await alerts.AcknowledgeAsync(request.Id, by, context.CancellationToken).ConfigureAwait(false);
        if (alert is null)
        {
            ThrowNotFound("alert", request.Id);
        }
        return new AcknowledgeAlertResponse { Alert = ToProto(alert) };
    }

    [RequireRole(MonitorRole.Editor)]
    public override async Task<CreateSilenceResponse> CreateSilence(CreateSilenceRequest request, ServerCallContext context)
    {
        var (row, errors) = await alerts.CreateSilenceAsync(new SilenceRequest
        {
            RuleId = request.RuleId,
            HostId = request.HostId,
            Location = request.Location,
            StartsAt = request.StartsAtUnixMs > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(request.StartsAtUnixMs) : null,
            EndsAt = request.EndsAtUnixMs > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(request.EndsAtUnixMs) : null,
            Comment = request.Comment,
        }, Caller(context), context.CancellationToken).ConfigureAwait(false);
        if (row is null)
        {
            ThrowInvalid(errors);
        }
        return new CreateSilenceResponse { Id = row.Id };
    }

    private static StoredRule Check(RuleChange change, long id)
    {
        if (change.Errors is { Count: > 0 } errors)
        {
            ThrowInvalid(errors);
        }
        if (change.NotFound)
        {
            ThrowNotFound("rule", id);
        }
        if (change.Conflict)
        {
            throw new RpcException(new Status(StatusCode.AlreadyExists, "a rule with this name already exists"));
        }
        return change.Rule!;
    }

    [DoesNotReturn]
    private static void ThrowNotFound(string what, long id) => throw new RpcException(new Status(StatusCode.NotFound, $"{what} {id} not found"));

    [DoesNotReturn]
    private static void ThrowInvalid(Dictionary<string, string[]> errors) =>
        throw new RpcException(new Status(StatusCode.InvalidArgument, string.Join("; ", errors.Select(kv => $"{kv.Key}: {string.Join(", ", kv.Value)}"))));

    private static string Caller(ServerCallContext context) => context.GetHttpContext().User.Identity?.Name is { Length: > 0 } n ? n : "anonymous";

    internal static RuleSpec? FromProto(Protos.V1.RuleSpec? spec) => spec is null ? null : new RuleSpec
    {
        Name = spec.Name,
        Kind = string.IsNullOrEmpty(spec.Kind) ? RuleKinds.Threshold : spec.Kind,
        Metric = spec.Metric,
        LabelFilter = spec.LabelFilter.ToDictionary(),
        Scope = new RuleScope { Kind = string.IsNullOrEmpty(spec.ScopeKind) ? "all" : spec.ScopeKind, Value = spec.ScopeValue },
        Aggregation = string.IsNullOrEmpty(spec.Aggregation) ? "last" : spec.Aggregation,
        WindowSeconds = spec.WindowSeconds,
        Comparator = string.IsNullOrEmpty(spec.Comparator) ? "gt" : spec.Comparator,
        Bands = new SeverityBands
        {
            Info = spec.Bands.FirstOrDefault(b => b.Severity == Severities.Info)?.Threshold,
            Warning = spec.Bands.FirstOrDefault(b => b.Severity == Severities.Warning)?.Threshold,
            Critical = spec.Bands.FirstOrDefault(b => b.Severity == Severities.Critical)?.Threshold,
        },
        ConsecutiveBreaches = spec.ConsecutiveBreaches == 0 ? 3 : spec.ConsecutiveBreaches,
        ForSeconds = spec.ForSeconds,
        RecoveryThreshold = spec.HasRecoveryThreshold ? spec.RecoveryThreshold : null,
        Channels = [.. spec.Channels],
        Enabled = spec.Enabled,
        NoDataAfterSeconds = spec.NoDataAfterSeconds,
        NotifyOnResolve = spec.NotifyOnResolve,
        RepeatIntervalSeconds = spec.RepeatIntervalSeconds,
    };

    private static ProtoRule ToProto(StoredRule rule)
    {
        var s = rule.Spec;
        var spec = new Protos.V1.RuleSpec
        {
            Name = s.Name,
            Kind = s.Kind,
            Metric = s.Metric,
            ScopeKind = s.Scope.Kind,
            ScopeValue = s.Scope.Value ?? "",
            Aggregation = s.Aggregation,
            WindowSeconds = s.WindowSeconds,
            Comparator = s.Comparator,
            ConsecutiveBreaches = s.ConsecutiveBreaches,
            ForSeconds = s.ForSeconds,
            Enabled = s.Enabled,
            NoDataAfterSeconds = s.NoDataAfterSeconds,
            NotifyOnResolve = s.NotifyOnResolve,
            RepeatIntervalSeconds = s.RepeatIntervalSeconds,
        };
        spec.LabelFilter.Add(s.LabelFilter);
        spec.Channels.AddRange(s.Channels);
        spec.Bands.AddRange(s.PresentBands().Select(b => new SeverityBand { Severity = b.Severity, Threshold = b.Threshold }));
        if (s.RecoveryThreshold is { } r)
        {
            spec.RecoveryThreshold = r;
        }
        return new ProtoRule { Id = rule.Id, Version = rule.Version, Spec = spec, UpdatedAtUnixMs = rule.UpdatedAtMs };
    }

    private static Alert ToProto(AlertEntity a)
    {
        var alert = new Alert
        {
            Id = a.Id,
            RuleId = a.RuleId,
            RuleVersion = a.RuleVersion,
            RuleName = a.RuleName,
            HostId = a.HostId,
            Severity = a.Severity,
            State = a.State,
            Value = a.Value,
            Threshold = a.Threshold,
            WindowStartUnixMs = a.WindowStartMs,
            WindowEndUnixMs = a.WindowEndMs,
            ConsecutiveCount = a.ConsecutiveCount,
            ConsecutiveNeeded = a.ConsecutiveNeeded,
            FiredAtUnixMs = a.FiredAtMs,
            ResolvedAtUnixMs = a.ResolvedAtMs ?? 0,
            AcknowledgedAtUnixMs = a.AcknowledgedAtMs ?? 0,
            AcknowledgedBy = a.AcknowledgedBy ?? "",
            Metric = a.Metric,
            Comparator = a.Comparator,
        };
        alert.BreachingValues.AddRange(JsonSerializer.Deserialize<double[]>(a.BreachValuesJson) ?? []);
        if (a.ResolvedValue is { } rv)
        {
            alert.ResolvedValue = rv;
        }
        return alert;
    }
}
