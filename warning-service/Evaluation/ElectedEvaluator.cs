using System.Text;
using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;
using Microsoft.Extensions.Options;
using Monitor.Influx;
using Monitor.ServiceDefaults.Discovery;
using Monitor.ServiceDefaults.Hosting;
using Monitor.WarningService.Extensions;
using Monitor.WarningService.Hosts;
using Monitor.WarningService.Notifications;
using Monitor.WarningService.Options;
using Monitor.WarningService.Rules;
using MySqlConnector;

namespace Monitor.WarningService.Evaluation;

/// <summary>
/// No-data rules and across-hosts (fleet) rules need a view of all hosts, so exactly one instance evaluates
/// them: the holder of an etcd lease-bound key. Its fencing token is the etcd revision at which it won;
/// every write it makes carries the token, and MySQL refuses writes from an older one.
/// </summary>
internal sealed partial class ElectedEvaluator(
    IOptions<WarningOptions> warningOptions,
    IOptions<EtcdOptions> etcdOptions,
    IOptions<ServiceOptions> serviceOptions,
    RuleCatalog catalog,
    AlertStore store,
    InfluxQueryClient influx,
    WarningMetrics metrics,
    NotificationSignal signal,
    IHostLocationResolver locations,
    DeletedHosts deletedHosts,
    TimeProvider timeProvider,
    ILogger<ElectedEvaluator> logger) : BackgroundService
{
    private const string FenceName = "warning-evaluator";
    private readonly WarningOptions _options = warningOptions.Value;
    private readonly Dictionary<(long RuleId, string Key), StateEntry> _entries = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var holder = serviceOptions.Value.EffectiveInstanceId;
        var endpoints = etcdOptions.Value.EffectiveEndpoints;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (endpoints.Count == 0)
                {
                    // No etcd: a single-instance deployment; it leads alone (token 1).
                    Log.NoElection(logger);
                    await LeadAsync(new Fence(FenceName, 1, holder), Task.Delay(Timeout.Infinite, stoppingToken), stoppingToken).ConfigureAwait(false);
                    continue;
                }
                using var client = new EtcdClient(etcdOptions.Value.ConnectionString);
                var lease = await client.LeaseGrantAsync(new LeaseGrantRequest { TTL = (long)Math.Ceiling(_options.LeaderLeaseTtl.TotalSeconds) }, cancellationToken: stoppingToken).ConfigureAwait(false);
                var key = ByteString.CopyFromUtf8(_options.LeaderKey);
                var txn = await client.TransactionAsync(new TxnRequest
                {
                    Compare = { new Compare { Key = key, Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Equal, CreateRevision = 0 } },
                    Success = { new RequestOp { RequestPut = new PutRequest { Key = key, Value = ByteString.CopyFromUtf8(holder), Lease = lease.ID } } },
                }, cancellationToken: stoppingToken).ConfigureAwait(false);
                if (!txn.Succeeded)
                {
                    await client.LeaseRevokeAsync(new LeaseRevokeRequest { ID = lease.ID }, cancellationToken: stoppingToken).ConfigureAwait(false);
                    await Task.Delay(_options.ElectedEvaluationInterval, timeProvider, stoppingToken).ConfigureAwait(false);
                    continue;
                }
                var token = txn.Header.Revision;
                Log.Elected(logger, holder, token);
                using var leadership = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                // Runs until cancelled or until the keep-alive stream breaks; either way the lease is as good as gone.
                var keepAlive = client.LeaseKeepAlive(lease.ID, leadership.Token);
                try
                {
                    await LeadAsync(new Fence(FenceName, token, holder), keepAlive, leadership.Token).ConfigureAwait(false);
                }
                finally
                {
                    await leadership.CancelAsync().ConfigureAwait(false);
                    _entries.Clear();
                    metrics.Lag.SteppedDown();
                    Log.SteppedDown(logger, holder, token);
                    try
                    {
                        using var revoke = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                        await client.LeaseRevokeAsync(new LeaseRevokeRequest { ID = lease.ID }, cancellationToken: revoke.Token).ConfigureAwait(false);
                    }
#pragma warning disable CA1031 // Best effort: the lease expires by itself.
                    catch (Exception)
#pragma warning restore CA1031
                    {
                    }
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // etcd, InfluxDB or MySQL being away must never stop the service: log and campaign again.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.ElectionFailed(logger, ex);
                try
                {
                    await Task.Delay(_options.ElectedEvaluationInterval, timeProvider, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Evaluates every interval while <paramref name="leadership"/> has not ended.</summary>
    private async Task LeadAsync(Fence fence, Task leadership, CancellationToken cancellationToken)
    {
        metrics.Lag.Leading();
        foreach (var row in await store.LoadElectedAsync(cancellationToken).ConfigureAwait(false))
        {
            _entries[(row.RuleId, row.HostId)] = StateEntry.FromEntity(row);
        }
        while (!leadership.IsCompleted && !cancellationToken.IsCancellationRequested)
        {
            try
            {
                await EvaluateOnceAsync(fence, cancellationToken).ConfigureAwait(false);
                metrics.Lag.PassCompleted();
            }
            catch (FencedOutException ex)
            {
                Log.FencedOut(logger, ex.Token, ex.Current);
                return;
            }
            catch (Exception ex) when (ex is InfluxQueryException or MySqlException or HttpRequestException or TimeoutException)
            {
                Log.EvaluationFailed(logger, ex);
            }
            await Task.WhenAny(leadership, Task.Delay(_options.ElectedEvaluationInterval, timeProvider, cancellationToken)).ConfigureAwait(false);
        }
    }

    internal async Task EvaluateOnceAsync(Fence fence, CancellationToken cancellationToken)
    {
        var nowMs = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        var events = new List<StateEvent>();
        foreach (var rule in catalog.Rules.Where(r => r.IsElectedRule))
        {
            var values = rule.Spec.Kind == RuleKinds.NoData
                ? await SilenceSecondsAsync(rule, nowMs, cancellationToken).ConfigureAwait(false)
                : await FleetAggregateAsync(rule, cancellationToken).ConfigureAwait(false);
            foreach (var (key, value) in values)
            {
                if (deletedHosts.Contains(key))
                {
                    // A decommissioned host is silent on purpose: no no-data alert, and its ended state is not written back.
                    _entries.Remove((rule.Id, key));
                    continue;
                }
                if (!_entries.TryGetValue((rule.Id, key), out var entry))
                {
                    entry = new StateEntry(rule.Id, key) { Partition = AlertStore.ElectedPartition };
                    _entries[(rule.Id, key)] = entry;
                }
                var state = entry.State;
                if (state.Phase is Phases.Ok or Phases.Resolved)
                {
                    state.RuleVersion = rule.Version;
                }
                var transition = AlertStateMachine.Evaluate(state, rule.Thresholds, nowMs, value);
                if (transition.Kind == TransitionKind.None)
                {
                    continue;
                }
                entry.Dirty = true;
                entry.Partition = AlertStore.ElectedPartition;
                if (transition.Kind is TransitionKind.Fired or TransitionKind.Escalated or TransitionKind.Resolved)
                {
                    events.Add(new StateEvent(rule, entry, transition, nowMs, state.Count, state.PendingSinceMs, [.. state.BreachValues]));
                }
            }
        }
        var dirty = _entries.Values.Where(e => e.Dirty).ToList();
        if (dirty.Count == 0 && events.Count == 0)
        {
            return;
        }
        var queued = await store.PersistAsync(events, dirty, cancellationToken, fence).ConfigureAwait(false);
        foreach (var e in events)
        {
            metrics.Transition(e.Transition.Kind);
            Log.Transition(logger, e.Transition.Kind, e.Rule.Id, e.Entry.HostId, e.Transition.Value);
        }
        if (queued > 0)
        {
            signal.Pulse();
        }
    }

    /// <summary>Seconds since the last sample of each host that reported within the look-back (or of the one host of a host-scoped rule).</summary>
    private async Task<List<(string Key, double Value)>> SilenceSecondsAsync(CompiledRule rule, long nowMs, CancellationToken cancellationToken)
    {
        var metric = string.IsNullOrEmpty(rule.Spec.Metric) ? "cpu_rate" : rule.Spec.Metric;
        var lookbackMs = (long)_options.NoDataLookback.TotalMilliseconds;
        var q = new StringBuilder("SELECT last(\"value\") FROM ").Append(InfluxQl.QuoteIdentifier(metric))
            .Append(" WHERE time > ").Append(InfluxQl.TimeLiteral(nowMs - lookbackMs));
        var host = rule.Spec.Scope.Kind == "host" ? rule.Spec.Scope.Value : null;
        IReadOnlyList<string> expected = host is not null ? [host]
            : rule.Spec.Scope.Kind == "location" ? locations.HostsIn(rule.Spec.Scope.Value ?? "") : [];
        if (rule.Spec.Scope.Kind != "all")
        {
            if (expected.Count == 0)
            {
                return [];
            }
            AppendHostFilter(q, expected);
        }
        q.Append(" GROUP BY \"host_id\"");
        var result = await influx.QueryAsync(q.ToString(), cancellationToken).ConfigureAwait(false);
        var values = new List<(string, double)>();
        foreach (var series in result.Series)
        {
            if (!series.Tags.TryGetValue("host_id", out var hostId) || series.RowCount == 0)
            {
                continue;
            }
            var lastMs = series.GetInt64(0, "time") ?? 0;
            values.Add((hostId, Math.Max(0, (nowMs - lastMs) / 1000.0)));
        }
        // A host of the scope that has not reported within the whole look-back is silent for at least that long.
        foreach (var missing in expected.Except(values.Select(v => v.Item1), StringComparer.Ordinal))
        {
            values.Add((missing, lookbackMs / 1000.0));
        }
        return values;
    }

    /// <summary>
    /// One aggregate of the metric over all hosts of the scope and the rule's window, or for a <c>rate_of_change</c> rule
    /// the per-second rate of that aggregate (<see cref="FleetRateAsync"/>); the state key is <c>*</c> or the location.
    /// </summary>
    private async Task<List<(string Key, double Value)>> FleetAggregateAsync(CompiledRule rule, CancellationToken cancellationToken)
    {
        var key = rule.Spec.Scope.Kind == "location" ? rule.Spec.Scope.Value ?? "" : "*";
        var hosts = rule.Spec.Scope.Kind == "location" ? locations.HostsIn(key) : null;
        if (hosts is { Count: 0 })
        {
            return [];
        }
        if (rule.Spec.Kind == RuleKinds.RateOfChange)
        {
            return await FleetRateAsync(rule, key, hosts, cancellationToken).ConfigureAwait(false) is { } rate ? [(key, rate)] : [];
        }
        var q = new StringBuilder("SELECT ").Append(AggregateFunction(rule.Spec.Aggregation)).Append(" AS \"v\" FROM ").Append(InfluxQl.QuoteIdentifier(rule.Spec.Metric))
            .Append(" WHERE time > now() - ").Append(InfluxQl.DurationLiteral(TimeSpan.FromSeconds(rule.Spec.WindowSeconds)));
        AppendSeriesFilter(q, rule, hosts);
        var result = await influx.QueryAsync(q.ToString(), cancellationToken).ConfigureAwait(false);
        var series = result.Series.Count > 0 ? result.Series[0] : null;
        return series is { RowCount: > 0 } && series.GetDouble(0, "v") is { } value ? [(key, value)] : [];
    }

    /// <summary>
    /// The rate of change of the across-hosts aggregate: the window is cut into whole buckets
    /// (<see cref="RateBucket"/>) ending at the last complete one — a bucket still filling would hold only the hosts
    /// that have reported so far — the aggregate is taken per bucket over all hosts, and the rate is
    /// (last − first) / Δt between the first and last non-empty bucket, per second. Null with fewer than two buckets.
    /// </summary>
    private async Task<double?> FleetRateAsync(CompiledRule rule, string key, IReadOnlyList<string>? hosts, CancellationToken cancellationToken)
    {
        var bucket = RateBucket(rule.Spec.WindowSeconds);
        var bucketMs = (long)bucket.TotalMilliseconds;
        var endMs = timeProvider.GetUtcNow().ToUnixTimeMilliseconds() / bucketMs * bucketMs;
        var startMs = endMs - (long)(rule.Spec.WindowSeconds * 1000) / bucketMs * bucketMs;
        var q = new StringBuilder("SELECT ").Append(AggregateFunction(rule.Spec.Aggregation)).Append(" AS \"v\" FROM ").Append(InfluxQl.QuoteIdentifier(rule.Spec.Metric))
            .Append(" WHERE time >= ").Append(InfluxQl.TimeLiteral(startMs)).Append(" AND time < ").Append(InfluxQl.TimeLiteral(endMs));
        AppendSeriesFilter(q, rule, hosts);
        q.Append(" GROUP BY time(").Append(InfluxQl.DurationLiteral(bucket)).Append(") fill(none)");
        var result = await influx.QueryAsync(q.ToString(), cancellationToken).ConfigureAwait(false);
        var points = new List<(long Ms, double Value)>();
        foreach (var series in result.Series)
        {
            for (int row = 0; row < series.RowCount; row++)
            {
                if (series.GetInt64(row, "time") is { } ms && series.GetDouble(row, "v") is { } v && double.IsFinite(v))
                {
                    points.Add((ms, v));
                }
            }
        }
        var rate = RateOf(points);
        if (rate is null)
        {
            Log.RateNotEnoughData(logger, rule.Id, key, points.Count);
        }
        return rate;
    }

    /// <summary>Per-second change between the earliest and latest point; null with fewer than two distinct times.</summary>
    internal static double? RateOf(IReadOnlyCollection<(long Ms, double Value)> points)
    {
        if (points.Count < 2)
        {
            return null;
        }
        var first = points.MinBy(p => p.Ms);
        var last = points.MaxBy(p => p.Ms);
        return last.Ms > first.Ms ? (last.Value - first.Value) / ((last.Ms - first.Ms) / 1000.0) : null;
    }

    /// <summary>
    /// Bucket width of an across-hosts rate: a sixth of the window in whole seconds, at least 5 s so that every host
    /// reporting at the usual 1–5 s has a sample in each bucket (the validator asks for a window of at least 10 s).
    /// </summary>
    internal static TimeSpan RateBucket(double windowSeconds) => TimeSpan.FromSeconds(Math.Max(5, Math.Floor(windowSeconds / 6)));

    private static string AggregateFunction(string aggregation) => aggregation switch
    {
        "mean" => "mean(\"value\")",
        "max" => "max(\"value\")",
        "min" => "min(\"value\")",
        "p95" => "percentile(\"value\", 95)",
        _ => "last(\"value\")",
    };

    /// <summary>The rule's label filter and, for a location, its hosts; every identifier and value quoted.</summary>
    private static void AppendSeriesFilter(StringBuilder q, CompiledRule rule, IReadOnlyList<string>? hosts)
    {
        foreach (var (k, v) in rule.Spec.LabelFilter)
        {
            q.Append(" AND ").Append(InfluxQl.QuoteIdentifier(k)).Append(" = ").Append(InfluxQl.QuoteString(v));
        }
        if (hosts is not null)
        {
            AppendHostFilter(q, hosts);
        }
    }

    private static void AppendHostFilter(StringBuilder q, IReadOnlyList<string> hosts)
    {
        q.Append(" AND (");
        for (int i = 0; i < hosts.Count; i++)
        {
            q.Append(i == 0 ? "" : " OR ").Append("\"host_id\" = ").Append(InfluxQl.QuoteString(hosts[i]));
        }
        q.Append(')');
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 7401, EventName = "EvaluatorElected", Level = LogLevel.Information,
            Message = "{Holder} is the elected evaluator (fencing token {Token}) for no-data and across-hosts rules")]
        public static partial void Elected(ILogger logger, string holder, long token);

        [LoggerMessage(EventId = 7402, EventName = "EvaluatorSteppedDown", Level = LogLevel.Information,
            Message = "{Holder} is no longer the elected evaluator (token {Token})")]
        public static partial void SteppedDown(ILogger logger, string holder, long token);

        [LoggerMessage(EventId = 7403, EventName = "EvaluatorElectionFailed", Level = LogLevel.Warning, Message = "Election or leadership failed; campaigning again")]
        public static partial void ElectionFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 7404, EventName = "EvaluatorFencedOut", Level = LogLevel.Warning,
            Message = "A newer leader holds the fence (our token {Token}, current {Current}); stepping down")]
        public static partial void FencedOut(ILogger logger, long token, long current);

        [LoggerMessage(EventId = 7405, EventName = "ElectedEvaluationFailed", Level = LogLevel.Warning, Message = "Evaluating no-data and across-hosts rules failed; retrying next interval")]
        public static partial void EvaluationFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 7406, EventName = "ElectedTransition", Level = LogLevel.Information,
            Message = "{Transition}: rule {RuleId} key {Key} value {Value}")]
        public static partial void Transition(ILogger logger, TransitionKind transition, long ruleId, string key, double value);

        [LoggerMessage(EventId = 7408, EventName = "ElectedRateNotEnoughData", Level = LogLevel.Debug,
            Message = "Rule {RuleId} key {Key}: {Buckets} bucket(s) with data in the window, a rate needs two; not evaluated this time")]
        public static partial void RateNotEnoughData(ILogger logger, long ruleId, string key, int buckets);

        [LoggerMessage(EventId = 7407, EventName = "NoElection", Level = LogLevel.Warning,
            Message = "Etcd:Endpoints is empty: this instance evaluates no-data and across-hosts rules alone; run only one instance like this")]
        public static partial void NoElection(ILogger logger);
    }
}
