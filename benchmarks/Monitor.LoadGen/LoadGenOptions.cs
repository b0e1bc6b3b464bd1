using System.Globalization;

namespace Monitor.LoadGen;

/// <summary>Which figures one run produces.</summary>
internal enum RunMode
{
    /// <summary>All three figures: max-rate ingest vs sink, persistence vs raw write, latency at N hosts × Hz.</summary>
    All,

    /// <summary>Max-rate ingest through the report services versus the in-process no-op sink.</summary>
    Max,

    /// <summary>N hosts at a fixed rate through report → Kafka → persistence → InfluxDB; end-to-end latency.</summary>
    Rate,

    /// <summary>Persistence drain of a pre-filled backlog versus a raw bulk write.</summary>
    Persist,
}

/// <summary>Command line of the load generator (plain <c>--name value</c> pairs; see <see cref="Usage"/>).</summary>
internal sealed class LoadGenOptions
{
    public RunMode Mode { get; set; } = RunMode.All;
    public int? Hosts { get; set; }
    public int MaxHosts { get; set; } = 50;
    public int RateHosts { get; set; } = 1000;
    public double Hz { get; set; } = 1;
    public TimeSpan? Duration { get; set; }
    public TimeSpan MaxDuration { get; set; } = TimeSpan.FromSeconds(10);
    public TimeSpan RateDuration { get; set; } = TimeSpan.FromSeconds(30);
    public TimeSpan Warmup { get; set; } = TimeSpan.FromSeconds(3);
    public int Rounds { get; set; } = 2;
    public int WarmupRounds { get; set; } = 1;
    public int SamplesPerBatch { get; set; } = 20;
    public int Window { get; set; } = 64;
    public int Reports { get; set; } = 2;
    public IReadOnlyList<string> ReportUrls { get; set; } = [];
    public int Persisters { get; set; } = 2;
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(1);
    public int BatchPoints { get; set; } = 5000;
    public int BacklogPoints { get; set; } = 1_000_000;
    public int BacklogHosts { get; set; } = 1000;
    /// <summary>Untimed points each side writes first so that neither is measured while the JIT still tiers up.</summary>
    public int WarmupPoints { get; set; } = 4_000_000;
    public int Partitions { get; set; } = 32;
    public int ProbeHosts { get; set; } = 25;
    public TimeSpan ProbeInterval { get; set; } = TimeSpan.FromMilliseconds(50);
    public string? Out { get; set; }
    public bool Keep { get; set; }
    public bool Warning { get; set; }
    public Dictionary<string, string> ReportEnv { get; } = [];
    public Dictionary<string, string> PersisterEnv { get; } = [];

    public int EffectiveMaxHosts => Mode == RunMode.Max && Hosts is { } h ? h : MaxHosts;
    public int EffectiveRateHosts => Mode == RunMode.Rate && Hosts is { } h ? h : RateHosts;
    public TimeSpan EffectiveMaxDuration => Mode == RunMode.Max && Duration is { } d ? d : MaxDuration;
    public TimeSpan EffectiveRateDuration => Mode == RunMode.Rate && Duration is { } d ? d : RateDuration;

    public const string Usage = """
        Monitor.LoadGen: simulated agents against the real pipeline (see benchmarks/README.md).

          --mode all|max|rate|persist   what to measure (default all: every figure from one run)
          --hosts N                     hosts of the chosen mode (max default 50, rate default 1000)
          --max-hosts N / --rate-hosts N  the same, per phase, for --mode all
          --hz F                        batches per host per second in rate mode (default 1)
          --duration 30s                measured time of the chosen mode (after --warmup)
          --max-duration 10s / --rate-duration 30s   per phase, for --mode all
          --warmup 3s                   excluded from every rate figure (default 3s)
          --rounds N                    max mode: alternate sink and report runs N times (default 2)
          --warmup-rounds N             max mode: untimed sink and report runs first, so that neither side is
                                        measured while its code is still being JIT-compiled (default 1; 0 = none)
          --samples N                   samples per batch (default 20)
          --window N                    batches in flight per stream in max mode (default 64, the report
                                        service's Report:MaxInFlightPerStream)
          --reports N                   report-service processes to start (default 2)
          --report-urls u1,u2           use running report services instead (gRPC URLs; max mode only)
          --persisters N                persistent-service processes, and raw writers (default 2)
          --flush-interval 1s           Persistence:FlushInterval of the started persistence services
          --batch-points N              Persistence:MaxBatchPoints and the raw write's batch size (default 5000)
          --backlog-points N            points pre-filled into Kafka for the persistence figure (default 1000000)
          --warmup-points N             untimed points both sides write first (default 4000000)
          --partitions N                partitions of the run's own topics (default 32)
          --probe-hosts N               hosts whose samples are timed to InfluxDB in rate mode (default 25)
          --out FILE                    also write the results as Markdown to FILE
          --keep                        keep the run's InfluxDB databases
          --warning                     rate mode: also run a warning-service on the same topic (10 rules per host,
                                        cpu_rate breaching on 1 % of hosts per second) and time sample → webhook,
                                        against the end-to-end p99 of the same run (issue #7, target <= 1.2x)
          --report-env K=V              extra environment of the started report services (repeatable),
                                        e.g. Kafka__Producer__linger.ms=1
          --persister-env K=V           extra environment of the started persistence services (repeatable),
                                        e.g. Kafka__Consumer__fetch.wait.max.ms=100
        Endpoints come from the environment (. .state/stack/endpoints.env): Kafka__BootstrapServers,
        MONITOR_TEST_KAFKA_CONTROL, Influx__Url, Etcd__Endpoints__0.
        """;

    public static LoadGenOptions Parse(string[] args)
    {
        var o = new LoadGenOptions();
        for (int i = 0; i < args.Length; i++)
        {
            var name = args[i];
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{name} needs a value");
            switch (name)
            {
                case "--mode": o.Mode = Enum.Parse<RunMode>(Next(), ignoreCase: true); break;
                case "--hosts": o.Hosts = PositiveInt(name, Next()); break;
                case "--max-hosts": o.MaxHosts = PositiveInt(name, Next()); break;
                case "--rate-hosts": o.RateHosts = PositiveInt(name, Next()); break;
                case "--hz": o.Hz = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--duration": o.Duration = ParseDuration(name, Next()); break;
                case "--max-duration": o.MaxDuration = ParseDuration(name, Next()); break;
                case "--rate-duration": o.RateDuration = ParseDuration(name, Next()); break;
                case "--warmup": o.Warmup = ParseDuration(name, Next()); break;
                case "--rounds": o.Rounds = PositiveInt(name, Next()); break;
                case "--warmup-rounds": o.WarmupRounds = NonNegativeInt(name, Next()); break;
                case "--samples": o.SamplesPerBatch = PositiveInt(name, Next()); break;
                case "--window": o.Window = PositiveInt(name, Next()); break;
                case "--reports": o.Reports = PositiveInt(name, Next()); break;
                case "--report-urls": o.ReportUrls = Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries); break;
                case "--persisters": o.Persisters = PositiveInt(name, Next()); break;
                case "--flush-interval": o.FlushInterval = ParseDuration(name, Next()); break;
                case "--batch-points": o.BatchPoints = PositiveInt(name, Next()); break;
                case "--backlog-points": o.BacklogPoints = PositiveInt(name, Next()); break;
                case "--backlog-hosts": o.BacklogHosts = PositiveInt(name, Next()); break;
                case "--warmup-points": o.WarmupPoints = PositiveInt(name, Next()); break;
                case "--partitions": o.Partitions = PositiveInt(name, Next()); break;
                case "--probe-hosts": o.ProbeHosts = PositiveInt(name, Next()); break;
                case "--probe-interval": o.ProbeInterval = ParseDuration(name, Next()); break;
                case "--out": o.Out = Next(); break;
                case "--keep": o.Keep = true; break;
                case "--warning": o.Warning = true; break;
                case "--report-env": AddEnv(o.ReportEnv, name, Next()); break;
                case "--persister-env": AddEnv(o.PersisterEnv, name, Next()); break;
                default: throw new ArgumentException($"unknown option {name}");
            }
        }
        if (o.Hz <= 0)
        {
            throw new ArgumentException("--hz must be positive");
        }
        if (o.ReportUrls.Count > 0 && o.Mode != RunMode.Max)
        {
            throw new ArgumentException("--report-urls is only supported with --mode max (the other figures need the run's own topics)");
        }
        return o;
    }

    private static void AddEnv(Dictionary<string, string> env, string name, string value)
    {
        var eq = value.IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0)
        {
            throw new ArgumentException($"{name}: '{value}' is not KEY=VALUE");
        }
        env[value[..eq]] = value[(eq + 1)..];
    }

    private static int PositiveInt(string name, string value) => IntAtLeast(name, value, 1, "a positive integer");

    private static int NonNegativeInt(string name, string value) => IntAtLeast(name, value, 0, "a non-negative integer");

    private static int IntAtLeast(string name, string value, int min, string what) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= min
            ? n
            : throw new ArgumentException($"{name}: '{value}' is not {what}");

    /// <summary>"30s", "1500ms", "2m" or a TimeSpan ("00:00:30").</summary>
    public static TimeSpan ParseDuration(string name, string value)
    {
        static double Number(string s) => double.Parse(s, CultureInfo.InvariantCulture);
        if (value.EndsWith("ms", StringComparison.Ordinal))
        {
            return TimeSpan.FromMilliseconds(Number(value[..^2]));
        }
        if (value.EndsWith('s'))
        {
            return TimeSpan.FromSeconds(Number(value[..^1]));
        }
        if (value.EndsWith('m'))
        {
            return TimeSpan.FromMinutes(Number(value[..^1]));
        }
        return TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out var t) && t > TimeSpan.Zero
            ? t
            : throw new ArgumentException($"{name}: '{value}' is not a duration (30s, 1500ms, 2m)");
    }
}
