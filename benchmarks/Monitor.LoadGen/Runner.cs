using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Confluent.Kafka;
using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;
using Monitor.Benchmarks.Shared;
using Monitor.Influx;
using Monitor.Protos.V1;

namespace Monitor.LoadGen;

/// <summary>Runs the phases of one load-generator run against the local stack and prints (and writes) the figures.</summary>
internal sealed partial class Runner(LoadGenOptions o, StackEndpoints stack) : IAsyncDisposable
{
    private readonly string _runId = Guid.NewGuid().ToString("N")[..8];
    private readonly List<ChildService> _children = [];
    private readonly List<string> _databases = [];
    private readonly InfluxAdmin _influx = new(stack.Influx);
    private readonly StringBuilder _report = new();
    private readonly List<string> _summary = [];
    private List<ChildService> _reports = [];

    private string SamplesTopic => $"monitor-bench-{_runId}-samples";
    private string DeadLetterTopic => $"monitor-bench-{_runId}-dlq";
    private static readonly string[] Spinner = ["|", "/", "-", "\\"];

    public async Task<int> RunAsync(CancellationToken ct)
    {
        var started = Stopwatch.StartNew();
        Line($"# Monitor.LoadGen run {_runId} ({TimeProvider.System.GetUtcNow():yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores)");
        Line($"mode {o.Mode.ToString().ToLowerInvariant()}, {o.SamplesPerBatch} samples/batch, report services {(o.ReportUrls.Count > 0 ? string.Join(",", o.ReportUrls) : o.Reports.ToString(CultureInfo.InvariantCulture))}, persisters {o.Persisters}, flush interval {o.FlushInterval.TotalMilliseconds} ms, batch {o.BatchPoints} points");
        if (o.ReportEnv.Count + o.PersisterEnv.Count > 0)
        {
            Line($"extra service environment: report {string.Join(" ", o.ReportEnv.Select(kv => $"{kv.Key}={kv.Value}"))}; persistence {string.Join(" ", o.PersisterEnv.Select(kv => $"{kv.Key}={kv.Value}"))}");
        }
        Line($"Kafka {stack.Kafka}{(stack.KafkaControl is null ? "" : " (librdkafka mock cluster)")}, InfluxDB {stack.Influx}; topics {SamplesTopic} ({o.Partitions} partitions)");
        Line($"load average at start: {LoadAverage()} (other work on this shared machine competes for the same cores)");
        Line("");

        var needReports = o.Mode is RunMode.All or RunMode.Max or RunMode.Rate && o.ReportUrls.Count == 0;
        if (needReports)
        {
            await KafkaTopicControl.CreateAsync(stack, SamplesTopic, o.Partitions, ct);
            await KafkaTopicControl.CreateAsync(stack, DeadLetterTopic, 2, ct);
            _reports = await StartReportsAsync(o.Reports, SamplesTopic, ct);
        }

        if (o.Mode is RunMode.All or RunMode.Max)
        {
            await MaxFigureAsync(ct);
        }
        if (o.Mode is RunMode.All or RunMode.Persist)
        {
            await PersistenceFigureAsync(ct);
        }
        if (o.Mode is RunMode.All or RunMode.Rate)
        {
            await LatencyFigureAsync(ct);
        }

        Line("## Summary");
        Line("");
        Line("| figure | measured | baseline (same run) | ratio / value | target | verdict |");
        Line("| --- | --- | --- | --- | --- | --- |");
        foreach (var row in _summary)
        {
            Line(row);
        }
        Line("");
        Line($"run took {started.Elapsed.TotalSeconds:F0} s; load average at the end: {LoadAverage()}; service logs in .state/bench-logs/");
        if (o.Out is not null)
        {
            await File.WriteAllTextAsync(o.Out, _report.ToString(), ct);
            Console.WriteLine($"results written to {o.Out}");
        }
        return 0;
    }

    // ---------------------------------------------------------------- (i) report service vs no-op sink

    private async Task MaxFigureAsync(CancellationToken ct)
    {
        Line($"## (i) Ingest at max rate: report services vs a no-op gRPC sink");
        Line("");
        Line($"{o.EffectiveMaxHosts} agents, one bidi stream each, window {o.Window} batches per stream, {o.SamplesPerBatch} samples/batch; per run {o.Warmup.TotalSeconds:F0} s warm-up, then {o.EffectiveMaxDuration.TotalSeconds:F0} s measured (acked samples); {o.WarmupRounds} untimed warm-up round(s), then {o.Rounds} round(s) of sink then report.");
        Line("");
        Line("| target | acked samples/s | batches/s | rejected | stream errors | CPU (cores) during the window | samples per CPU-second (all listed processes) |");
        Line("| --- | --- | --- | --- | --- | --- | --- |");

        // Sink and report alternate (sink, report, sink, report, ...) so that load from other processes on this
        // shared machine hits both sides alike; the figure is the mean over the rounds.
        var urls = o.ReportUrls.Count > 0 ? o.ReportUrls : [.. _reports.Select(r => r.GrpcUrl!)];
        var sinkRates = new List<double>();
        var reportRates = new List<double>();
        var serverNotes = new List<string>();
        var sinkEfficiency = new List<double>();
        var reportEfficiency = new List<double>();
        string? lastError = null;
        await using var sink = await NoOpReportSink.StartAsync(ct);
        // The processes whose CPU each side's runs count.
        (string, int)[] sinkCpu = [("loadgen+sink", Environment.ProcessId), .. StackProcesses()];
        (string, int)[] reportCpu = [("loadgen", Environment.ProcessId), .. _reports.Select(r => ("report", r.Pid)), .. StackProcesses()];
        // Untimed rounds first: the report processes and the in-process sink start cold, and a first round measured
        // 149-171k samples/s against 370-385k for the same report services in round 2 (and the sink 0.72 of its round 2)
        // while their code was still being JIT-compiled. Their rows are shown, not counted.
        for (int round = 1; round <= o.WarmupRounds; round++)
        {
            var sinkWarm = await RunMaxAsync($"sink warm-up {round}/{o.WarmupRounds}", [sink.Url], sinkCpu, null, ct);
            MaxRow($"warm-up {round} (not counted): no-op sink", sinkWarm);
            var reportWarm = await RunMaxAsync($"report warm-up {round}/{o.WarmupRounds}", urls, reportCpu, null, ct);
            MaxRow($"warm-up {round} (not counted): {urls.Count} report service(s)", reportWarm);
        }
        for (int round = 1; round <= o.Rounds; round++)
        {
            var sinkResult = await RunMaxAsync($"sink {round}/{o.Rounds}", [sink.Url], sinkCpu, null, ct);
            sinkRates.Add(sinkResult.SamplesPerSecond);
            MaxRow($"round {round}: no-op sink (in-process)", sinkResult);
            sinkEfficiency.Add(sinkResult.SamplesPerCoreSecond);

            var reportResult = await RunMaxAsync($"report {round}/{o.Rounds}", urls, reportCpu, _reports.Count > 0 ? _reports : null, ct);
            reportRates.Add(reportResult.SamplesPerSecond);
            MaxRow($"round {round}: {urls.Count} report service(s)", reportResult);
            reportEfficiency.Add(reportResult.SamplesPerCoreSecond);
            if (reportResult.ServerSide is { } server)
            {
                serverNotes.Add($"round {round}: {server}");
            }
            lastError = reportResult.LastError ?? sinkResult.LastError ?? lastError;
        }
        var sinkRate = sinkRates.Average();
        var reportRate = reportRates.Average();
        Line($"| **mean** no-op sink | **{Stats.N(sinkRate)}** | | | | | {Stats.N(sinkEfficiency.Average())} |");
        Line($"| **mean** report services | **{Stats.N(reportRate)}** | | | | | {Stats.N(reportEfficiency.Average())} |");
        Line("");
        foreach (var note in serverNotes)
        {
            Line($"Report services' own /metrics, {note}.");
            Line("");
        }
        if (lastError is not null)
        {
            Line($"last stream error: {lastError}");
            Line("");
        }
        var ratio = reportRate / sinkRate;
        Line($"**Ratio report/sink = {Stats.F(ratio)}** (target >= 0.70). Per CPU-second of every process involved (client, server, Kafka): {Stats.F(reportEfficiency.Average() / sinkEfficiency.Average())}.");
        Line("");
        _summary.Add($"| (i) report-service ingest, {o.EffectiveMaxHosts} agents max rate | {Stats.N(reportRate)} samples/s | no-op sink {Stats.N(sinkRate)} samples/s | {Stats.F(ratio)} | >= 0.70 | {(ratio >= 0.7 ? "met" : "missed")} |");
    }

    private void MaxRow(string label, MaxResult r) =>
        Line($"| {label} | {Stats.N(r.SamplesPerSecond)} | {Stats.N(r.BatchesPerSecond)} | {r.Rejected} | {r.Errors} | {r.Cpu} | {Stats.N(r.SamplesPerCoreSecond)} |");

    private sealed record MaxResult(double SamplesPerSecond, double BatchesPerSecond, long Rejected, long Errors, string Cpu, double SamplesPerCoreSecond, string? ServerSide, string? LastError);

    private async Task<MaxResult> RunMaxAsync(string label, IReadOnlyList<string> urls, IReadOnlyList<(string, int)> cpuProcesses, IReadOnlyList<ChildService>? scrape, CancellationToken ct)
    {
        var counters = new IngestCounters();
        using var fleet = new AgentFleet(urls);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var run = fleet.RunMaxAsync(o.EffectiveMaxHosts, o.SamplesPerBatch, o.Window, counters, stop.Token);

        await ProgressAsync($"max/{label} warm-up", o.Warmup, counters, ct);
        var a0 = Interlocked.Read(ref counters.AckedSamples);
        var b0 = Interlocked.Read(ref counters.AckedBatches);
        var server0 = scrape is null ? null : await ScrapeReportAsync(scrape, ct);
        var cpu = new CpuMeter(cpuProcesses);
        var clock = Stopwatch.StartNew();
        await ProgressAsync($"max/{label}", o.EffectiveMaxDuration, counters, ct);
        var a1 = Interlocked.Read(ref counters.AckedSamples);
        var b1 = Interlocked.Read(ref counters.AckedBatches);
        var elapsed = clock.Elapsed.TotalSeconds;
        var (cpuText, cores) = cpu.Measure();
        var server1 = scrape is null ? null : await ScrapeReportAsync(scrape, ct);
        await stop.CancelAsync();
        await run;
        ClearProgress();

        string? serverText = null;
        if (server0 is { } s0 && server1 is { } s1)
        {
            var accepted = (s1.Accepted - s0.Accepted) / elapsed;
            var produceMs = s1.ProduceCount > s0.ProduceCount ? (s1.ProduceSumMs - s0.ProduceSumMs) / (s1.ProduceCount - s0.ProduceCount) : double.NaN;
            serverText = $"{Stats.N(accepted)} samples/s accepted (monitor_report_samples_accepted), mean Kafka produce-to-delivery-report {Stats.F(produceMs, 1)} ms over {Stats.N(s1.ProduceCount - s0.ProduceCount)} batches, {Stats.N(s1.Saturated - s0.Saturated)} batches refused as saturated";
        }
        return new MaxResult((a1 - a0) / elapsed, (b1 - b0) / elapsed, counters.RejectedSamples, counters.StreamErrors, cpuText, (a1 - a0) / elapsed / cores, serverText, counters.LastError);
    }

    private sealed record ReportScrape(double Accepted, double ProduceSumMs, double ProduceCount, double Saturated);

    private static async Task<ReportScrape> ScrapeReportAsync(IReadOnlyList<ChildService> reports, CancellationToken ct)
    {
        var urls = reports.Select(r => r.HttpUrl).ToList();
        return new ReportScrape(
            await PrometheusScrape.SumAsync(urls, "monitor_report_samples_accepted_total", ct),
            await PrometheusScrape.SumAsync(urls, "monitor_report_kafka_produce_duration_milliseconds_sum", ct),
            await PrometheusScrape.SumAsync(urls, "monitor_report_kafka_produce_duration_milliseconds_count", ct),
            await PrometheusScrape.SumAsync(urls, "monitor_report_batches_saturated_total", ct));
    }

    // ---------------------------------------------------------------- (ii) persistence vs raw bulk write

    private async Task PersistenceFigureAsync(CancellationToken ct)
    {
        var rawDb = $"monitor_bench_{_runId}_raw";
        var persistDb = $"monitor_bench_{_runId}_persist";
        await CreateDatabaseAsync(rawDb, ct);
        await CreateDatabaseAsync(persistDb, ct);
        var batches = BuildBacklog(o.BacklogPoints, hoursAgo: 2);
        var total = batches.Sum(b => (long)b.Samples.Count);
        // Both sides first write an untimed warm-up, earlier in time (distinct points), so that neither is measured while
        // the JIT still tiers up: a freshly started persistence process spent over 40 % of its CPU in the tiered
        // compilation thread during a drain of a few seconds (ratio 0.52-0.67), against 0.92 once warmed up.
        var warmup = BuildBacklog(o.WarmupPoints, hoursAgo: 4);
        var warmupTotal = warmup.Sum(b => (long)b.Samples.Count);

        Line("## (ii) Persistence vs a raw bulk write of the same points");
        Line("");
        Line($"{Stats.N(total)} points = {Stats.N(batches.Count)} batches of {o.SamplesPerBatch} samples from {o.BacklogHosts} hosts (distinct timestamps, so every point is new). Same InfluxDB, same batch size ({o.BatchPoints} points), gzip, {o.Persisters} writer(s) / persistence process(es), each into its own fresh database. Each side first writes an untimed warm-up of {Stats.N(warmupTotal)} other points.");
        Line("");

        // Raw: encode with LineProtocolBuilder and POST /write with N parallel writers.
        Console.WriteLine("raw bulk write (warm-up, untimed) ...");
        await RawWriteAsync(warmup, rawDb, ct);
        Console.WriteLine("raw bulk write ...");
        var cpuRaw = new CpuMeter([("loadgen", Environment.ProcessId), .. StackProcesses()]);
        var (rawElapsed, rawWriteMs, rawWrites) = await RawWriteAsync(batches, rawDb, ct);
        var (rawCpu, rawCores) = cpuRaw.Measure();
        var rawRate = total / rawElapsed.TotalSeconds;

        // Persistence: persisters wait on an empty topic (so the group is settled), then the backlog is produced in one go.
        var topic = $"monitor-bench-{_runId}-backlog";
        await KafkaTopicControl.CreateAsync(stack, topic, o.Partitions, ct);
        var persisters = await StartPersistersAsync("drain", o.Persisters, topic, persistDb, latest: false, ct);
        await WaitAssignedAsync(persisters, ct);
        var urls = persisters.Select(p => p.HttpUrl).ToList();
        Console.WriteLine("persistence warm-up (untimed) ...");
        await ProduceBacklogAsync(topic, warmup, ct);
        for (var waited = Stopwatch.StartNew(); await PrometheusScrape.SumAsync(urls, "monitor_persistence_points_written_total", ct) < warmupTotal; await Task.Delay(100, ct))
        {
            if (waited.Elapsed > TimeSpan.FromSeconds(Math.Max(120, warmupTotal / 5_000.0)))
            {
                throw new TimeoutException($"the persisters did not write the {warmupTotal} warm-up points");
            }
        }
        var cpu = new CpuMeter([.. persisters.Select(p => ("persistence", p.Pid)), ("loadgen", Environment.ProcessId), .. StackProcesses()]);
        var wall = Stopwatch.StartNew();
        var produceElapsed = await ProduceBacklogAsync(topic, batches, ct);
        Console.WriteLine($"backlog of {batches.Count} messages produced in {produceElapsed.TotalMilliseconds:F0} ms; draining ...");
        // Until the produce ends the persisters share the cores with LoadGen's producer (the raw writers did not):
        // the drain proper is what is written after the whole backlog is in Kafka.
        var producedAt = wall.Elapsed;
        var writtenAtProduced = await PrometheusScrape.SumAsync(urls, "monitor_persistence_points_written_total", ct) - warmupTotal;
        double firstSeenPoints = -1;
        TimeSpan firstSeen = default;
        var deadline = TimeSpan.FromSeconds(Math.Max(120, total / 5_000.0));
        double written = 0;
        while (wall.Elapsed < deadline)
        {
            written = await PrometheusScrape.SumAsync(urls, "monitor_persistence_points_written_total", ct) - warmupTotal;
            if (written > 0 && firstSeenPoints < 0)
            {
                firstSeenPoints = written;
                firstSeen = wall.Elapsed;
            }
            Progress($"persistence drain {Spin(wall)} {Stats.N(written)} / {Stats.N(total)} points written, {wall.Elapsed.TotalSeconds:F1} s");
            if (written >= total)
            {
                break;
            }
            await Task.Delay(100, ct);
        }
        var done = wall.Elapsed;
        var (cpuText, drainCores) = cpu.Measure();
        ClearProgress();
        var overlapRate = firstSeenPoints < 0 || done <= firstSeen ? 0 : (total - firstSeenPoints) / (done - firstSeen).TotalSeconds;
        var drainRate = done <= producedAt ? 0 : (total - writtenAtProduced) / (done - producedAt).TotalSeconds;
        if (total - writtenAtProduced < total / 5)
        {
            Line($"WARNING: only {Stats.N(total - writtenAtProduced)} of {Stats.N(total)} points were left after the produce; raise --backlog-points for a steadier drain figure.");
        }
        var wallRate = total / done.TotalSeconds;
        // The last write is counted before its offsets are committed: give the commit a moment.
        double messages = 0;
        for (var wait = Stopwatch.StartNew(); wait.Elapsed < TimeSpan.FromSeconds(5); await Task.Delay(100, ct))
        {
            messages = await PrometheusScrape.SumAsync(urls, "monitor_persistence_messages_total", ct);
            if (messages >= batches.Count + warmup.Count)
            {
                break;
            }
        }
        var writes = await PrometheusScrape.SumAsync(urls, "monitor_persistence_write_duration_milliseconds_count", ct);
        var writeMs = await PrometheusScrape.SumAsync(urls, "monitor_persistence_write_duration_milliseconds_sum", ct);
        foreach (var p in persisters)
        {
            await StopChildAsync(p);
        }
        var rawCount = await _influx.CountPointsAsync(rawDb, ct);
        var persistCount = await _influx.CountPointsAsync(persistDb, ct);

        Line("| path | points/s | time | points in InfluxDB afterwards | CPU (cores) |");
        Line("| --- | --- | --- | --- | --- |");
        Line($"| raw bulk write (LoadGen: LineProtocolBuilder + InfluxWriter, {o.Persisters} writer(s); {rawWrites} writes, mean write {Stats.F(rawWriteMs, 1)} ms) | {Stats.N(rawRate)} | {rawElapsed.TotalSeconds:F2} s | {Stats.N(rawCount)} | {rawCpu} |");
        Line($"| persistent-service ×{o.Persisters} draining the Kafka backlog (backlog fully produced → all written; {Stats.N(total - writtenAtProduced)} points) | {Stats.N(drainRate)} | {(done - producedAt).TotalSeconds:F2} s | {Stats.N(persistCount)} | {cpuText} |");
        Line($"| persistent-service ×{o.Persisters}, first write → all written (overlaps the produce) | {Stats.N(overlapRate)} | {(done - firstSeen).TotalSeconds:F2} s | | |");
        Line("");
        Line($"Persistence from the start of the produce to all points written: {Stats.N(wallRate)} points/s ({done.TotalSeconds:F2} s, the produce took {produceElapsed.TotalSeconds:F2} s of it). " +
            $"Its /metrics (warm-up included): {Stats.N(messages)} messages committed, {Stats.N(writes)} InfluxDB writes, mean write {(writes > 0 ? Stats.F(writeMs / writes, 1) : "n/a")} ms, {(writes > 0 ? Stats.N((written + warmupTotal) / writes) : "n/a")} points per write.");
        Line("");
        var ratio = drainRate / rawRate;
        Line($"Points per CPU-second of every process involved: raw {Stats.N(rawRate / rawCores)}, persistence {Stats.N(total / done.TotalSeconds / drainCores)} (over the whole produce + drain).");
        Line("");
        Line($"**Ratio persistence/raw = {Stats.F(ratio)}** (target >= 0.80).{(persistCount == total + warmupTotal && rawCount == total + warmupTotal ? " Both databases hold every point (warm-up included)." : $" WARNING: expected {total + warmupTotal} points (warm-up included) in each database.")}");
        Line("");
        _summary.Add($"| (ii) persistence drain, {o.Persisters} process(es), batch {o.BatchPoints} | {Stats.N(drainRate)} points/s | raw bulk write {Stats.N(rawRate)} points/s | {Stats.F(ratio)} | >= 0.80 | {(ratio >= 0.8 ? "met" : "missed")} |");
    }

    private List<SampleBatch> BuildBacklog(int points, int hoursAgo)
    {
        var count = Math.Max(1, points / o.SamplesPerBatch);
        var start = TimeProvider.System.GetUtcNow().AddHours(-hoursAgo).ToUnixTimeMilliseconds();
        var batches = new List<SampleBatch>(count);
        for (int k = 0; k < count; k++)
        {
            var host = k % o.BacklogHosts;
            var snapshot = k / o.BacklogHosts;
            batches.Add(SampleWorkload.CreateBatch(AgentFleet.HostId(host), (ulong)snapshot + 1, o.SamplesPerBatch, start + (snapshot * 1000L), seed: k));
        }
        return batches;
    }

    private async Task<(TimeSpan Elapsed, double MeanWriteMs, int Writes)> RawWriteAsync(List<SampleBatch> batches, string database, CancellationToken ct)
    {
        using var http = new HttpClient(new SocketsHttpHandler { PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan }) { Timeout = TimeSpan.FromSeconds(60) };
        var writer = new InfluxWriter(http, Microsoft.Extensions.Options.Options.Create(new InfluxOptions { Url = new Uri(stack.Influx), Database = database, Gzip = true }), NullLogger<InfluxWriter>.Instance);
        var perWrite = Math.Max(1, o.BatchPoints / o.SamplesPerBatch);
        var chunks = (batches.Count + perWrite - 1) / perWrite;
        var next = -1;
        long writeTicks = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, o.Persisters).Select(_ => Task.Run(async () =>
        {
            var lines = new LineProtocolBuilder();
            var tags = new List<KeyValuePair<string, string>>(16);
            int chunk;
            while ((chunk = Interlocked.Increment(ref next)) < chunks)
            {
                lines.Reset();
                foreach (var batch in batches.Skip(chunk * perWrite).Take(perWrite))
                {
                    // The same schema as persistent-service's BatchLineEncoder: measurement = metric, tags = host_id + labels.
                    foreach (var sample in batch.Samples)
                    {
                        tags.Clear();
                        tags.Add(new("host_id", batch.HostId));
                        tags.AddRange(sample.Labels);
                        lines.AppendPoint(sample.Metric, tags, "value", sample.Value, sample.TimestampUnixMs);
                    }
                }
                var writeStarted = Stopwatch.GetTimestamp();
                await writer.WriteAsync(lines, ct);
                Interlocked.Add(ref writeTicks, Stopwatch.GetTimestamp() - writeStarted);
            }
        }, ct)));
        return (clock.Elapsed, writeTicks * 1000.0 / Stopwatch.Frequency / chunks, chunks);
    }

    private async Task<TimeSpan> ProduceBacklogAsync(string topic, List<SampleBatch> batches, CancellationToken ct)
    {
        // The report service's producer settings (idempotent, acks=all, lz4, linger 5 ms) and headers.
        var config = new ProducerConfig
        {
            BootstrapServers = stack.Kafka,
            ClientId = $"loadgen-{_runId}",
            EnableIdempotence = true,
            Acks = Acks.All,
            LingerMs = 5,
            CompressionType = CompressionType.Lz4,
        };
        using var producer = new ProducerBuilder<string, byte[]>(config).Build();
        var instance = Encoding.UTF8.GetBytes($"loadgen-{_runId}");
        var clock = Stopwatch.StartNew();
        long failed = 0;
        foreach (var batch in batches)
        {
            var message = new Message<string, byte[]>
            {
                Key = batch.HostId,
                Value = batch.ToByteArray(),
                Headers = new Headers
                {
                    { "received-at-ms", Encoding.ASCII.GetBytes(TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)) },
                    { "report-instance", instance },
                },
            };
            while (true)
            {
                try
                {
                    producer.Produce(topic, message, r =>
                    {
                        if (r.Error.IsError)
                        {
                            Interlocked.Increment(ref failed);
                        }
                    });
                    break;
                }
                catch (ProduceException<string, byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
                {
                    producer.Poll(TimeSpan.FromMilliseconds(50));
                }
            }
        }
        producer.Flush(ct);
        if (failed > 0)
        {
            throw new InvalidOperationException($"{failed} backlog messages were not delivered to Kafka");
        }
        return clock.Elapsed;
    }

    // ---------------------------------------------------------------- (iii) end-to-end latency at N hosts x Hz

    private async Task LatencyFigureAsync(CancellationToken ct)
    {
        var hosts = o.EffectiveRateHosts;
        var db = $"monitor_bench_{_runId}_e2e";
        await CreateDatabaseAsync(db, ct);
        var topic = SamplesTopic;
        if (o.Mode == RunMode.All && _reports.Count > 0)
        {
            // After (i) the samples topic holds up to ~100k message sets per partition. The mock cluster finds a fetch
            // offset by walking a partition's message sets from the oldest one (librdkafka rdkafka_mock.c,
            // rd_kafka_mock_msgset_find: "FIXME: Maintain an index"), on the one thread that also answers every
            // produce: each fetch of this phase's consumers would scan that backlog and delay the report services'
            // acks. A real broker indexes offsets. This phase therefore gets a topic (and report services) of its own.
            topic = $"monitor-bench-{_runId}-e2e";
            await KafkaTopicControl.CreateAsync(stack, topic, o.Partitions, ct);
            foreach (var report in _reports)
            {
                await StopChildAsync(report);
            }
            _reports = await StartReportsAsync(o.Reports, topic, ct);
        }
        // In rate mode the samples topic is fresh; after (i) it is not, so the group starts at the end of it either way.
        var persisters = await StartPersistersAsync("e2e", o.Persisters, topic, db, latest: true, ct);
        await WaitAssignedAsync(persisters, ct);
        await using var warning = o.Warning ? await WarningProbe.StartAsync(stack, _runId, CommonEnv(topic), ct) : null;

        var probe = new LatencyProbe(hosts, o.ProbeHosts);
        var counters = new IngestCounters { RecordAckLatency = true };
        using var fleet = new AgentFleet([.. _reports.Select(r => r.GrpcUrl!)]);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        using var probeStop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var run = fleet.RunRateAsync(hosts, o.Hz, o.SamplesPerBatch, counters, probe.OnSent, stop.Token, warning is null ? null : WarningProbe.Shape);
        var probing = probe.RunAsync(_influx, db, o.ProbeInterval, TimeSpan.FromSeconds(15), probeStop.Token);

        var warmup = o.Warmup < TimeSpan.FromSeconds(5) ? TimeSpan.FromSeconds(5) : o.Warmup;
        await ProgressAsync("rate warm-up", warmup, counters, ct);
        var catchUp = TimeSpan.Zero;
        if (warning is not null)
        {
            // Its consumer joins the group after start-up and then works through what arrived meanwhile while the JIT
            // tiers its code up: the figure is the steady state, measured once it is less than 2 s behind the stream
            // (how long that took is reported beside it).
            var settle = Stopwatch.StartNew();
            while (await warning.EvaluationsAsync(ct) == 0 && settle.Elapsed < TimeSpan.FromSeconds(60))
            {
                await Task.Delay(500, ct);
            }
            while (await warning.EvaluationLagAsync(ct) > 2 && settle.Elapsed < TimeSpan.FromSeconds(180))
            {
                await ProgressAsync("warning service catching up", TimeSpan.FromSeconds(1), counters, ct);
            }
            catchUp = settle.Elapsed;
        }
        counters.ClearAckLatencies();
        probe.Recording = true;
        var a0 = Interlocked.Read(ref counters.AckedSamples);
        var recordFromMs = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
        var evaluations0 = warning is null ? 0 : await warning.EvaluationsAsync(ct);
        var warningCpu0 = warning is null ? TimeSpan.Zero : CpuTime.Of(warning.Service.Pid);
        var cpu = new CpuMeter([("loadgen", Environment.ProcessId), .. _reports.Select(r => ("report", r.Pid)), .. persisters.Select(p => ("persistence", p.Pid)),
            .. warning is null ? Array.Empty<(string, int)>() : [("warning", warning.Service.Pid)], .. StackProcesses()]);
        var clock = Stopwatch.StartNew();
        await ProgressAsync($"rate {hosts} hosts x {o.Hz} Hz", o.EffectiveRateDuration, counters, ct, () => $", {probe.Latencies().Length} probe samples timed");
        probe.Recording = false;
        var recordToMs = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
        var elapsed = clock.Elapsed.TotalSeconds;
        var evaluations = warning is null ? 0 : await warning.EvaluationsAsync(ct) - evaluations0;
        var warningCpu = warning is null ? 0 : (CpuTime.Of(warning.Service.Pid) - warningCpu0).TotalSeconds;
        var acked = Interlocked.Read(ref counters.AckedSamples) - a0;
        var (cpuText, _) = cpu.Measure();
        await stop.CancelAsync();
        await run;
        await probeStop.CancelAsync();
        await probing;
        var detections = Array.Empty<double>();
        if (warning is not null)
        {
            // The last breaches of the window may still be on their way: wait until nothing new arrived for 3 s.
            var quiet = Stopwatch.StartNew();
            var seen = -1;
            while (quiet.Elapsed < TimeSpan.FromSeconds(3))
            {
                detections = warning.Latencies(recordFromMs, recordToMs);
                if (detections.Length != seen)
                {
                    seen = detections.Length;
                    quiet.Restart();
                }
                await Task.Delay(250, ct);
            }
        }
        var persisted = warning is null ? (double.NaN, 0) : await warning.PersistedDetectionAsync(ct);
        ClearProgress();
        var writes = await PrometheusScrape.SumAsync(persisters.Select(p => p.HttpUrl), "monitor_persistence_write_duration_milliseconds_count", ct);
        var writeMs = await PrometheusScrape.SumAsync(persisters.Select(p => p.HttpUrl), "monitor_persistence_write_duration_milliseconds_sum", ct);
        var points = await PrometheusScrape.SumAsync(persisters.Select(p => p.HttpUrl), "monitor_persistence_points_written_total", ct);
        foreach (var p in persisters)
        {
            await StopChildAsync(p);
        }

        var latencies = probe.Latencies();
        var acks = counters.AckLatencies();
        var target = o.FlushInterval.TotalMilliseconds + 250;
        var p99 = Stats.Percentile(latencies, 99);
        Line($"## (iii) End-to-end latency at {hosts} hosts x {o.Hz} Hz");
        Line("");
        Line($"{hosts} agents ({o.SamplesPerBatch} samples per batch, timestamp = send time) → {_reports.Count} report service(s) → Kafka ({topic}, {o.Partitions} partitions) → {o.Persisters} persistence process(es) (flush interval {o.FlushInterval.TotalMilliseconds} ms, batch {o.BatchPoints}) → InfluxDB. " +
            $"{probe.ProbeHosts} probe hosts; InfluxDB polled every {o.ProbeInterval.TotalMilliseconds} ms (mean query {Stats.F(probe.MeanQueryMs, 1)} ms), a sample counts as visible when the poll answer arrives. {warmup.TotalSeconds:F0} s warm-up, {elapsed:F0} s measured.");
        Line("");
        Line("| measure | value |");
        Line("| --- | --- |");
        Line($"| achieved ingest | {Stats.N(acked / elapsed)} samples/s acked ({Stats.N(acked / elapsed / o.SamplesPerBatch)} batches/s) |");
        Line($"| sample timestamp → queryable in InfluxDB (n = {latencies.Length}) | p50 {Stats.N(Stats.Percentile(latencies, 50))} ms, p90 {Stats.N(Stats.Percentile(latencies, 90))} ms, p99 {Stats.N(p99)} ms, max {Stats.N(latencies.Length == 0 ? double.NaN : latencies.Max())} ms |");
        Line($"| probe samples never seen within 15 s | {probe.PendingCount} |");
        Line($"| send → ack (report service: validate + Kafka acks=all), n = {acks.Length} | p50 {Stats.F(Stats.Percentile(acks, 50), 1)} ms, p99 {Stats.F(Stats.Percentile(acks, 99), 1)} ms |");
        Line($"| persistence writes | {Stats.N(writes)} writes, mean {(writes > 0 ? Stats.F(writeMs / writes, 1) : "n/a")} ms, {(writes > 0 ? Stats.N(points / writes) : "n/a")} points per write |");
        Line($"| rejected samples / stream errors | {counters.RejectedSamples} / {counters.StreamErrors}{(counters.LastError is null ? "" : $" ({counters.LastError})")} |");
        Line($"| CPU (cores) | {cpuText} |");
        Line("");
        Line($"**p99 = {Stats.N(p99)} ms** (target <= flush interval + 250 ms = {target:F0} ms).");
        Line("");
        string? warningSummary = null;
        if (warning is not null)
        {
            var wp99 = Stats.Percentile(detections, 99);
            var ratio = wp99 / p99;
            var expected = hosts * o.Hz * (recordToMs - recordFromMs) / 1000.0 / 100;
            Line($"Alert detection in the same run: one warning-service process (consumer group of its own on the same topic, {WarningProbe.RuleCount} rules for every host, consecutive breaches 1), " +
                $"`{WarningProbe.TimedMetric}` breaching on 1 % of the hosts per second (about {Stats.N(expected)} firing notifications expected from the measured window), notified to a webhook receiver in this process. " +
                "Latency = sample timestamp → firing notification received (Kafka, evaluation, MySQL transaction, offset commit, outbox dispatcher, HTTP).");
            Line("");
            Line("| measure | value |");
            Line("| --- | --- |");
            Line($"| sample timestamp → firing notification received (n = {detections.Length}) | p50 {Stats.N(Stats.Percentile(detections, 50))} ms, p90 {Stats.N(Stats.Percentile(detections, 90))} ms, p99 {Stats.N(wp99)} ms, max {Stats.N(detections.Length == 0 ? double.NaN : detections.Max())} ms |");
            Line($"| sample timestamp → firing transition persisted in MySQL (the service's own histogram, whole run, n = {Stats.N(persisted.Item2)}) | mean {Stats.N(persisted.Item1)} ms |");
            Line($"| start-up: warning service started → evaluating and less than 2 s behind the stream (not in the window) | {Stats.N(catchUp.TotalSeconds)} s |");
            Line($"| warning-service evaluations (rule, host) in the window | {Stats.N(evaluations)} ({Stats.N(evaluations / elapsed)}/s) |");
            Line($"| warning-service CPU | {Stats.F(warningCpu / elapsed)} cores; {(evaluations > 0 ? Stats.F(warningCpu * 1e6 / evaluations) : "n/a")} µs per evaluated (rule, host) sample |");
            Line("");
            Line($"**detection p99 / ingest end-to-end p99 = {Stats.N(wp99)} / {Stats.N(p99)} ms = {Stats.F(ratio)}** (target <= 1.2).");
            Line("");
            warningSummary = $"| alert detection latency, {hosts} hosts x {WarningProbe.RuleCount} rules at {o.Hz} Hz | p50 {Stats.N(Stats.Percentile(detections, 50))} ms, p99 {Stats.N(wp99)} ms | ingest end-to-end p99 {Stats.N(p99)} ms | {Stats.F(ratio)} | <= 1.20 | {(ratio <= 1.2 && detections.Length > 0 ? "met" : "missed")} |";
        }
        _summary.Add($"| (iii) end-to-end latency, {hosts} hosts x {o.Hz} Hz | p50 {Stats.N(Stats.Percentile(latencies, 50))} ms, p99 {Stats.N(p99)} ms | (flush interval {o.FlushInterval.TotalMilliseconds} ms) | p99 {Stats.N(p99)} ms | <= {target:F0} ms | {(p99 <= target && probe.PendingCount == 0 ? "met" : "missed")} |");
        if (warningSummary is not null)
        {
            _summary.Add(warningSummary);
        }
    }

    // ---------------------------------------------------------------- processes and helpers

    private Dictionary<string, string> CommonEnv(string topic) => new()
    {
        ["Kafka__BootstrapServers"] = stack.Kafka,
        ["Kafka__SamplesTopic"] = topic,
        ["Kafka__DeadLetterTopic"] = DeadLetterTopic,
        ["Etcd__Endpoints__0"] = stack.Etcd ?? "",
        // A private prefix: the stack's nginx sync must not route real agents to the benchmark's instances.
        ["Etcd__Prefix"] = $"/monitor-bench-{_runId}/services",
        ["Etcd__LeaseTtl"] = "00:00:05",
        // The benchmark measures the pipeline, not access control: its clients present no token.
        ["Auth__Enabled"] = "false",
    };

    private async Task<List<ChildService>> StartReportsAsync(int count, string topic, CancellationToken ct)
    {
        var assembly = stack.ServiceAssembly("report-service", "Monitor.ReportService");
        var started = new List<ChildService>();
        for (int i = 0; i < count; i++)
        {
            var env = CommonEnv(topic);
            env["Service__InstanceId"] = $"bench-report-{i}-{_runId}";
            foreach (var (k, v) in o.ReportEnv)
            {
                env[k] = v;
            }
            var child = ChildService.Start(stack, $"report-{i}-{_runId}", assembly, $"http://127.0.0.1:{StackEndpoints.FreePort()}", $"http://127.0.0.1:{StackEndpoints.FreePort()}", env);
            _children.Add(child);
            started.Add(child);
        }
        foreach (var child in started)
        {
            await child.WaitReadyAsync(TimeSpan.FromSeconds(60), ct);
        }
        Console.WriteLine($"started {count} report service(s): {string.Join(", ", started.Select(c => c.GrpcUrl))}");
        return started;
    }

    private async Task<List<ChildService>> StartPersistersAsync(string label, int count, string topic, string database, bool latest, CancellationToken ct)
    {
        var assembly = stack.ServiceAssembly("persistent-service", "Monitor.PersistentService");
        var group = $"monitor-bench-{_runId}-{label}";
        var started = new List<ChildService>();
        for (int i = 0; i < count; i++)
        {
            var env = CommonEnv(topic);
            env["Service__InstanceId"] = $"bench-persist-{label}-{i}-{_runId}";
            env["Persistence__GroupId"] = group;
            env["Persistence__FlushInterval"] = o.FlushInterval.ToString("c", CultureInfo.InvariantCulture);
            env["Persistence__MaxBatchPoints"] = o.BatchPoints.ToString(CultureInfo.InvariantCulture);
            env["Influx__Url"] = stack.Influx;
            env["Influx__Database"] = database;
            env["Kafka__Consumer__session.timeout.ms"] = "6000";
            env["Kafka__Consumer__heartbeat.interval.ms"] = "1000";
            if (latest)
            {
                env["Kafka__Consumer__auto.offset.reset"] = "latest";
            }
            foreach (var (k, v) in o.PersisterEnv)
            {
                env[k] = v;
            }
            var child = ChildService.Start(stack, $"persist-{label}-{i}-{_runId}", assembly, $"http://127.0.0.1:{StackEndpoints.FreePort()}", null, env);
            _children.Add(child);
            started.Add(child);
        }
        foreach (var child in started)
        {
            await child.WaitReadyAsync(TimeSpan.FromSeconds(60), ct);
        }
        return started;
    }

    [GeneratedRegex(@"Assigned (\d+) partition")]
    private static partial Regex AssignedRegex();

    /// <summary>Waits until every persister owns partitions and together they own all of them (the group has settled).</summary>
    private async Task WaitAssignedAsync(List<ChildService> persisters, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            var owned = persisters.Select(p => AssignedRegex().Matches(p.RecentOutput()) is { Count: > 0 } m ? int.Parse(m[^1].Groups[1].Value, CultureInfo.InvariantCulture) : 0).ToList();
            if (owned.All(n => n > 0) && owned.Sum() == o.Partitions)
            {
                Console.WriteLine($"persistence group settled: {string.Join(" + ", owned)} partitions ({clock.Elapsed.TotalSeconds:F1} s)");
                // The first fetch of each partition resolves its start offset; give it a moment.
                await Task.Delay(1000, ct);
                return;
            }
            await Task.Delay(200, ct);
        }
        throw new TimeoutException($"the persistence group did not settle within 60 s; see {string.Join(", ", persisters.Select(p => p.LogPath))}");
    }

    private static string LoadAverage()
    {
        try
        {
            return string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "n/a";
        }
    }

    private IEnumerable<(string, int)> StackProcesses()
    {
        if (stack.StackPid("kafka-mock", "kafka-mock.pid") is { } kafka)
        {
            yield return ("kafka-mock", kafka);
        }
        if (stack.StackPid("influxdb", "influxd.pid") is { } influx)
        {
            yield return ("influxd", influx);
        }
    }

    private async Task CreateDatabaseAsync(string name, CancellationToken ct)
    {
        await _influx.CreateAsync(name, ct);
        _databases.Add(name);
    }

    private async Task StopChildAsync(ChildService child)
    {
        await child.DisposeAsync();
        _children.Remove(child);
    }

    private async Task ProgressAsync(string label, TimeSpan duration, IngestCounters counters, CancellationToken ct, Func<string>? extra = null)
    {
        var clock = Stopwatch.StartNew();
        var last = Interlocked.Read(ref counters.AckedSamples);
        var lastAt = TimeSpan.Zero;
        while (duration - clock.Elapsed > TimeSpan.FromMilliseconds(20))
        {
            var wait = duration - clock.Elapsed;
            await Task.Delay(wait < TimeSpan.FromSeconds(1) ? wait : TimeSpan.FromSeconds(1), ct);
            var now = Interlocked.Read(ref counters.AckedSamples);
            var rate = (now - last) / Math.Max(0.001, (clock.Elapsed - lastAt).TotalSeconds);
            last = now;
            lastAt = clock.Elapsed;
            Progress($"{label} {Spin(clock)} {clock.Elapsed.TotalSeconds,5:F0}/{duration.TotalSeconds:F0} s  acked {Stats.N(now)} samples, {Stats.N(rate)}/s, in flight {Stats.N(Interlocked.Read(ref counters.SentBatches) - Interlocked.Read(ref counters.AckedBatches))} batches, errors {counters.StreamErrors}{extra?.Invoke()}");
        }
    }

    private static string Spin(Stopwatch clock) => Spinner[(int)(clock.ElapsedMilliseconds / 250) % Spinner.Length];

    private static void Progress(string text)
    {
        if (Console.IsOutputRedirected)
        {
            Console.WriteLine(text);
        }
        else
        {
            var width = Math.Max(20, Console.WindowWidth - 1);
            Console.Write("\r" + (text.Length > width ? text[..width] : text.PadRight(width)));
        }
    }

    private static void ClearProgress()
    {
        if (!Console.IsOutputRedirected)
        {
            Console.Write("\r" + new string(' ', Math.Max(20, Console.WindowWidth - 1)) + "\r");
        }
    }

    private void Line(string text)
    {
        Console.WriteLine(text);
        _report.AppendLine(text);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var child in _children.ToList())
        {
            await child.DisposeAsync();
        }
        if (!o.Keep)
        {
            foreach (var db in _databases)
            {
                await _influx.DropAsync(db);
            }
        }
        _influx.Dispose();
    }
}
