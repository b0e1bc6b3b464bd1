using System.Globalization;

namespace Monitor.AnalyzeBench;

internal sealed record BenchOptions
{
    public const string Usage = """
        usage: Monitor.AnalyzeBench [options]
          --influx URL         InfluxDB (default $MONITOR_TEST_INFLUX or http://127.0.0.1:8086)
          --database NAME      bench database (default monitor_bench)
          --hosts N            hosts to load (default 1000)
          --hours H            hours of data at --interval (default 1)
          --interval SECONDS   sample interval (default 1)
          --skip-load          reuse the data already in --database
          --iterations N       measured calls per operation and path (default 100)
          --location-size N    hosts per location (default 100)
          --etcd URL           etcd for the service's registration (default $MONITOR_TEST_ETCD, empty = none)
        """;

    public string Influx { get; init; } = Environment.GetEnvironmentVariable("MONITOR_TEST_INFLUX") is { Length: > 0 } u ? u : "http://127.0.0.1:8086";
    public string Database { get; init; } = "monitor_bench";
    public int Hosts { get; init; } = 1000;
    public double Hours { get; init; } = 1;
    public int IntervalSeconds { get; init; } = 1;
    public bool SkipLoad { get; init; }
    public int Iterations { get; init; } = 100;
    public int LocationSize { get; init; } = 100;
    public string Etcd { get; init; } = Environment.GetEnvironmentVariable("MONITOR_TEST_ETCD") ?? "";
    public bool Help { get; init; }

    public static BenchOptions Parse(string[] args)
    {
        var o = new BenchOptions();
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int Int() => int.Parse(Next(), CultureInfo.InvariantCulture);
            o = args[i] switch
            {
                "--influx" => o with { Influx = Next() },
                "--database" => o with { Database = Next() },
                "--hosts" => o with { Hosts = Int() },
                "--hours" => o with { Hours = double.Parse(Next(), CultureInfo.InvariantCulture) },
                "--interval" => o with { IntervalSeconds = Int() },
                "--skip-load" => o with { SkipLoad = true },
                "--iterations" => o with { Iterations = Int() },
                "--location-size" => o with { LocationSize = Int() },
                "--etcd" => o with { Etcd = Next() },
                "--help" or "-h" => o with { Help = true },
                _ => throw new ArgumentException($"unknown option {args[i]}"),
            };
        }
        return o;
    }
}
