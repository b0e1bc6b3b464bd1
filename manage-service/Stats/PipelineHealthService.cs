using System.Net.Http.Headers;
using Monitor.Diagnostics.SelfMetrics;
using Monitor.ManageService.Registry;

namespace Monitor.ManageService.Stats;

/// <summary>One stage of the pipeline and how it is doing.</summary>
/// <param name="Stage"><c>ingest</c>, <c>persistence</c>, <c>alerting</c>, <c>query</c> or <c>manage</c>.</param>
/// <param name="Kind">The service kind that runs the stage.</param>
/// <param name="Status"><c>ok</c>, <c>behind</c>, <c>failing</c> or <c>down</c> (no live instance).</param>
/// <param name="Instances">Live instances in the registry.</param>
/// <param name="Reasons">Why the status is not <c>ok</c>, one sentence each.</param>
/// <param name="Figures">The stage's key figures, summed over its instances (increases are over the instances' last feed interval).</param>
internal sealed record StageHealth(string Stage, string Kind, string Status, int Instances, IReadOnlyList<string> Reasons, IReadOnlyDictionary<string, double> Figures);

/// <summary>JSON of <c>GET /api/v1/manage/pipeline/health</c>.</summary>
internal sealed record PipelineHealth(bool Healthy, IReadOnlyList<string> Behind, DateTimeOffset GeneratedAt, bool RegistrySynced, IReadOnlyList<StageHealth> Stages, IReadOnlyList<InstancePoll> Instances);

/// <summary>
/// Answers "is the pipeline healthy, and if not, which stage is behind?": asks every live instance for its pipeline
/// figures (<c>GET {http}/api/v1/{kind}/instance/stats/pipeline</c>, the same figures it feeds to the pipeline) and judges each
/// stage: no live instance → down; InfluxDB write failures, Kafka delivery failures or failed notifications → failing;
/// consumer lag above <see cref="LagBehindThreshold"/>, rule-evaluation lag above <see cref="EvaluationLagBehindSeconds"/> or an
/// elected evaluator whose last completed pass is older than <see cref="ElectedPassBehindSeconds"/> → behind.
/// </summary>
internal sealed class PipelineHealthService(ServiceRegistryView registry, RegistryFigures registryFigures, IHttpClientFactory httpClientFactory, TimeProvider timeProvider)
{
    /// <summary>Consumer lag (messages, summed over partitions) above which persistence counts as behind.</summary>
    public const double LagBehindThreshold = 1000;

    /// <summary>Rule-evaluation lag (seconds, the slowest warning instance) above which alerting counts as behind.</summary>
    public const double EvaluationLagBehindSeconds = 120;

    /// <summary>Age of the elected evaluator's last completed pass (seconds) above which alerting counts as behind (8 default intervals).</summary>
    public const double ElectedPassBehindSeconds = 120;

    private static readonly (string Stage, string Kind)[] Stages =
        [("ingest", "report"), ("persistence", "persistent"), ("alerting", "warning"), ("query", "analyze"), ("manage", "manage")];

    public async Task<PipelineHealth> GetAsync(string? authorization, string? cookie, CancellationToken cancellationToken)
    {
        var instances = registry.List(null).Where(i => i.LeaseAlive).ToList();
        var polls = await Task.WhenAll(instances.Select(i => PollAsync(i, authorization, cookie, cancellationToken))).ConfigureAwait(false);
        var live = registryFigures.LiveByKind();
        var stages = new List<StageHealth>();
        foreach (var (stage, kind) in Stages)
        {
            var snapshots = polls.Where(p => p.Poll.Kind == kind && p.Snapshot is not null).Select(p => p.Snapshot!).ToList();
            var count = live.Count > 0 ? live.GetValueOrDefault(kind) : instances.Count(i => i.Kind == kind);
            stages.Add(Judge(stage, kind, count, snapshots));
        }
        var behind = stages.Where(s => s.Status != "ok").Select(s => s.Stage).ToList();
        return new PipelineHealth(behind.Count == 0, behind, timeProvider.GetUtcNow(), registry.Synced, stages, polls.Select(p => p.Poll).ToList());
    }

    internal static StageHealth Judge(string stage, string kind, int instances, IReadOnlyList<SelfFiguresSnapshot> snapshots)
    {
        var figures = new SortedDictionary<string, double>(StringComparer.Ordinal);
        var reasons = new List<string>();
        double Sum(string metric, Func<SelfFigure, bool>? filter = null) =>
            snapshots.SelectMany(s => s.Figures).Where(f => f.Metric == metric && (filter is null || filter(f))).Sum(f => f.Value);
        double Avg(string metric) =>
            snapshots.SelectMany(s => s.Figures).Where(f => f.Metric == metric).Select(f => f.Value).DefaultIfEmpty(0).Max();
        double? Max(string metric) =>
            snapshots.SelectMany(s => s.Figures).Where(f => f.Metric == metric).Select(f => (double?)f.Value).Max();
        var behind = 0;

        switch (kind)
        {
            case "report":
                figures["samplesReceived"] = Sum("monitor_report_samples_received");
                figures["samplesAccepted"] = Sum("monitor_report_samples_accepted");
                figures["samplesRejected"] = Sum("monitor_report_samples_rejected");
                figures["batchesSaturated"] = Sum("monitor_report_batches_saturated");
                figures["inFlightBatches"] = Sum("monitor_report_inflight");
                figures["kafkaProduceAvgMs"] = Avg("monitor_report_kafka_produce_duration_avg");
                if (figures["batchesSaturated"] > 0)
                {
                    reasons.Add($"{figures["batchesSaturated"]} batches refused with ResourceExhausted (in-flight budget exhausted: Kafka slow?)");
                }
                break;
            case "persistent":
                figures["consumerLag"] = Sum("monitor_persistence_consumer_lag_sum");
                figures["writeFailures"] = Sum("monitor_persistence_write_failures");
                figures["deadLettered"] = Sum("monitor_persistence_dead_lettered");
                figures["pointsWritten"] = Sum("monitor_persistence_points_written");
                figures["influxWriteAvgMs"] = Avg("monitor_persistence_write_duration_avg");
                figures["lostBelowWatermark"] = Sum("monitor_persistence_lost_below_watermark");
                if (figures["writeFailures"] > 0)
                {
                    reasons.Add($"{figures["writeFailures"]} failed InfluxDB writes in the last interval");
                }
                if (figures["consumerLag"] > LagBehindThreshold)
                {
                    reasons.Add($"consumer lag {figures["consumerLag"]} messages (above {LagBehindThreshold})");
                    behind++;
                }
                if (figures["lostBelowWatermark"] > 0)
                {
                    reasons.Add($"{figures["lostBelowWatermark"]} messages dropped by Kafka before they were written");
                }
                break;
            case "warning":
                figures["evaluations"] = Sum("monitor_warning_evaluations");
                figures["notificationsSent"] = Sum("monitor_warning_sends", f => f.Labels.GetValueOrDefault("status") != "failed");
                figures["notificationFailures"] = Sum("monitor_warning_sends", f => f.Labels.GetValueOrDefault("status") == "failed");
                figures["detectionLatencyAvgMs"] = Avg("monitor_warning_detection_latency_avg");
                // Rule-evaluation lag: the slowest stream evaluator, and the elected evaluator's last completed pass (absent
                // when no instance reports it: nothing evaluated yet, or no leader at this moment).
                if (Max("monitor_warning_evaluation_lag") is { } lag)
                {
                    figures["evaluationLagSeconds"] = lag;
                    if (lag > EvaluationLagBehindSeconds)
                    {
                        reasons.Add($"rule evaluation lag {lag} s: the newest sample evaluated is older than {EvaluationLagBehindSeconds} s");
                        behind++;
                    }
                }
                if (Max("monitor_warning_elected_pass_age") is { } age)
                {
                    figures["electedPassAgeSeconds"] = age;
                    if (age > ElectedPassBehindSeconds)
                    {
                        reasons.Add($"elected evaluator lag: last completed pass of no-data and across-hosts rules {age} s ago (above {ElectedPassBehindSeconds} s)");
                        behind++;
                    }
                }
                if (figures["notificationFailures"] > 0)
                {
                    reasons.Add($"{figures["notificationFailures"]} notification sends failed in the last interval");
                }
                break;
        }
        // Behind when every reason is a lag; any failure makes the stage failing.
        var status = instances == 0 ? "down" : reasons.Count == 0 ? "ok" : behind == reasons.Count ? "behind" : "failing";
        if (instances == 0)
        {
            reasons.Insert(0, $"no live {kind} instance in the registry");
        }
        return new StageHealth(stage, kind, status, instances, reasons, figures);
    }

    private async Task<(InstancePoll Poll, SelfFiguresSnapshot? Snapshot)> PollAsync(ServiceInstanceInfo instance, string? authorization, string? cookie, CancellationToken cancellationToken)
    {
        if (RequestStatsAggregator.BaseUrl(instance.HttpUrl) is not { } baseUrl)
        {
            return (new InstancePoll(instance.Kind, instance.InstanceId, instance.HttpUrl, false, "no usable HTTP address in the registry"), null);
        }
        try
        {
            using var client = httpClientFactory.CreateClient(RequestStatsAggregator.HttpClientName);
            using var request = new HttpRequestMessage(HttpMethod.Get, baseUrl + SelfMetricsEndpoints.PathFor(instance.Kind));
            if (!string.IsNullOrEmpty(authorization) && AuthenticationHeaderValue.TryParse(authorization, out var auth))
            {
                request.Headers.Authorization = auth;
            }
            if (!string.IsNullOrEmpty(cookie))
            {
                request.Headers.TryAddWithoutValidation("Cookie", cookie);
            }
            using var response = await client.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return (new InstancePoll(instance.Kind, instance.InstanceId, instance.HttpUrl, false, $"HTTP {(int)response.StatusCode}"), null);
            }
            var snapshot = await response.Content.ReadFromJsonAsync(SelfFiguresJsonContext.Default.SelfFiguresSnapshot, cancellationToken).ConfigureAwait(false);
            return (new InstancePoll(instance.Kind, instance.InstanceId, instance.HttpUrl, snapshot is not null, snapshot is null ? "empty answer" : null), snapshot);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            return (new InstancePoll(instance.Kind, instance.InstanceId, instance.HttpUrl, false, ex is TaskCanceledException ? "timed out" : ex.GetType().Name), null);
        }
    }
}
