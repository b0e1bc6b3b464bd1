using System.Globalization;

namespace Monitor.KafkaMock;

/// <summary>A topic to create at start: <c>name:partitions[:replicationFactor]</c>.</summary>
internal sealed record TopicSpec(string Name, int Partitions, int ReplicationFactor);

/// <summary>Command-line options of the mock launcher.</summary>
internal sealed class MockOptions
{
    public const int MaxPartitions = 1000;

    public int Brokers { get; private set; } = 3;

    public int BasePort { get; private set; } = 9092;

    public int ControlPort { get; private set; } = 9099;

    public int RebalanceDelayMs { get; private set; }

    public string? OutFile { get; private set; }

    public bool Verbose { get; private set; }

    public bool ShowHelp { get; private set; }

    public List<TopicSpec> Topics { get; } = [];

    /// <summary>Replication factor used when a topic spec or a control request names none (the mock's own default for auto-created topics).</summary>
    public int DefaultReplicationFactor => Math.Min(3, Brokers);

    public const string Usage =
        """
        usage: Monitor.KafkaMock [options]

          Starts librdkafka's in-memory MOCK Kafka cluster (a test double, data is lost on exit)
          and exposes broker i (1..N) on 127.0.0.1:(base-port + i - 1).

          --brokers N               number of mock brokers (default 3)
          --base-port P             first fixed broker port (default 9092 -> 9092,9093,9094)
          --topic NAME:PARTS[:RF]   create a topic at start (repeatable; RF defaults to min(3, brokers))
          --rebalance-delay-ms N    consumer-group initial rebalance delay (default 0; the mock's own default is 3000)
          --control-port P          loopback HTTP control endpoint (default 9099; 0 disables it)
          --out FILE                write the bootstrap string to FILE once the cluster is ready
          --verbose                 also print librdkafka debug logs of the mock
          --help                    this text

          control endpoint:  GET /health -> 200 "ok" once ready (503 before)
                             GET /bootstrap -> the bootstrap string
                             POST /topics?name=NAME&partitions=N[&replicationFactor=R]
                               -> 200 {"topic":..,"partitions":..,"replicationFactor":..,"created":..,"error":..}
                               -> 400 on bad input

          exit codes: 0 stopped by SIGTERM/SIGINT, 1 failure, 2 bad arguments, 3 a port is already in use
        """;

    /// <summary>Parses <paramref name="args"/>; returns null and sets <paramref name="error"/> on bad input.</summary>
    public static MockOptions? Parse(string[] args, out string? error)
    {
        var options = new MockOptions();
        var rawTopics = new List<string>();
        error = null;
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            string Next()
            {
                if (i + 1 >= args.Length)
                {
                    throw new FormatException($"{arg} needs a value");
                }

                return args[++i];
            }

            try
            {
                switch (arg)
                {
                    case "--brokers":
                        options.Brokers = ParseInt(arg, Next(), 1, 32);
                        break;
                    case "--base-port":
                        options.BasePort = ParseInt(arg, Next(), 1, 65535);
                        break;
                    case "--control-port":
                        options.ControlPort = ParseInt(arg, Next(), 0, 65535);
                        break;
                    case "--rebalance-delay-ms":
                        options.RebalanceDelayMs = ParseInt(arg, Next(), 0, 600_000);
                        break;
                    case "--topic":
                        rawTopics.Add(Next());
                        break;
                    case "--out":
                        options.OutFile = Next();
                        break;
                    case "--verbose":
                        options.Verbose = true;
                        break;
                    case "--help":
                    case "-h":
                        options.ShowHelp = true;
                        break;
                    default:
                        throw new FormatException($"unknown argument '{arg}'");
                }
            }
            catch (FormatException e)
            {
                error = e.Message;
                return null;
            }
        }

        if (options.BasePort + options.Brokers - 1 > 65535)
        {
            error = $"--base-port {options.BasePort} + {options.Brokers} brokers exceeds port 65535";
            return null;
        }

        if (options.ControlPort >= options.BasePort && options.ControlPort < options.BasePort + options.Brokers)
        {
            error = $"--control-port {options.ControlPort} collides with the broker ports {options.BasePort}-{options.BasePort + options.Brokers - 1}";
            return null;
        }

        foreach (var raw in rawTopics)
        {
            var parts = raw.Split(':');
            if (parts.Length is < 2 or > 3 || !TopicNames.IsValid(parts[0]))
            {
                error = $"--topic '{raw}': expected NAME:PARTITIONS[:RF] with NAME matching {TopicNames.Pattern}";
                return null;
            }

            try
            {
                var partitions = ParseInt("--topic partitions", parts[1], 1, MaxPartitions);
                var rf = parts.Length == 3 ? ParseInt("--topic replication factor", parts[2], 1, options.Brokers) : options.DefaultReplicationFactor;
                options.Topics.Add(new TopicSpec(parts[0], partitions, rf));
            }
            catch (FormatException e)
            {
                error = e.Message;
                return null;
            }
        }

        return options;
    }

    private static int ParseInt(string what, string value, int min, int max)
    {
        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < min || n > max)
        {
            throw new FormatException($"{what}: '{value}' is not an integer in [{min}, {max}]");
        }

        return n;
    }
}
