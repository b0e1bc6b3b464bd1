using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Confluent.Kafka;

namespace Monitor.KafkaMock;

/// <summary>
/// Starts librdkafka's in-memory mock Kafka cluster on fixed loopback ports for local development and tests.
/// See <see cref="MockOptions.Usage"/>.
/// </summary>
internal static class Program
{
    private const int ExitOk = 0;
    private const int ExitFailure = 1;
    private const int ExitUsage = 2;
    private const int ExitPortInUse = 3;

    private static async Task<int> Main(string[] args)
    {
        var options = MockOptions.Parse(args, out var error);
        if (options is null)
        {
            await Console.Error.WriteLineAsync($"Monitor.KafkaMock: {error}\n\n{MockOptions.Usage}").ConfigureAwait(false);
            return ExitUsage;
        }

        if (options.ShowHelp)
        {
            Console.WriteLine(MockOptions.Usage);
            return ExitOk;
        }

        PrintNotice(options);
        try
        {
            return await RunAsync(options).ConfigureAwait(false);
        }
        catch (PortInUseException e)
        {
            await Console.Error.WriteLineAsync($"Monitor.KafkaMock: ERROR: {e.Message}").ConfigureAwait(false);
            return ExitPortInUse;
        }
#pragma warning disable CA1031 // top level of a CLI: report any failure and exit non-zero
        catch (Exception e)
#pragma warning restore CA1031
        {
            await Console.Error.WriteLineAsync($"Monitor.KafkaMock: ERROR: {e}").ConfigureAwait(false);
            return ExitFailure;
        }
    }

    private static async Task<int> RunAsync(MockOptions options)
    {
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx => OnSignal(ctx, stop));
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, ctx => OnSignal(ctx, stop));

        // 1. Claim every fixed port before anything else, so a busy port fails fast and names itself.
        var forwarders = new List<PortForwarder>();
        ControlServer? control = null;
        MockCluster? cluster = null;
        try
        {
            for (var i = 0; i < options.Brokers; i++)
            {
                var port = options.BasePort + i;
                try
                {
                    forwarders.Add(PortForwarder.Bind(port));
                }
                catch (SocketException e)
                {
                    throw new PortInUseException($"broker {i + 1} port 127.0.0.1:{port} cannot be bound: {Describe(e)} (choose another base port with --base-port)", e);
                }
            }

            if (options.ControlPort > 0)
            {
                try
                {
                    control = ControlServer.Start(options.ControlPort, options.Brokers, options.DefaultReplicationFactor);
                }
                catch (SocketException e)
                {
                    throw new PortInUseException($"control port 127.0.0.1:{options.ControlPort} cannot be bound: {Describe(e)} (choose another with --control-port)", e);
                }
            }

            // 2. The mock cluster itself (random ports), then point the fixed ports at it and advertise them.
            cluster = MockCluster.Start(options.Brokers, options.Verbose);
            Console.WriteLine($"librdkafka {Library.VersionString} ({NativeMethods.FindLoadedLibrdkafka()}), mock brokers listen on {cluster.NativeBootstrap}");
            cluster.SetInitialRebalanceDelay(options.RebalanceDelayMs);

            var advertised = new List<string>();
            for (var i = 0; i < cluster.Brokers.Count; i++)
            {
                var broker = cluster.Brokers[i];
                var forwarder = forwarders[i];
                forwarder.Start(MockCluster.ListenAddress(broker), broker.Port);
                cluster.Advertise(broker.BrokerId, "127.0.0.1", forwarder.Port);
                advertised.Add($"127.0.0.1:{forwarder.Port.ToString(CultureInfo.InvariantCulture)}");
                Console.WriteLine($"broker {broker.BrokerId}: 127.0.0.1:{forwarder.Port} -> {broker.Host}:{broker.Port}");
            }

            var bootstrap = string.Join(',', advertised);

            // 3. Topics.
            foreach (var topic in options.Topics)
            {
                var result = cluster.CreateTopic(topic.Name, topic.Partitions, topic.ReplicationFactor);
                if (result.Error is not null)
                {
                    throw new InvalidOperationException($"creating topic {topic.Name} failed: {result.Error}");
                }

                Console.WriteLine($"topic {topic.Name}: {topic.Partitions} partitions, replication factor {topic.ReplicationFactor}");
            }

            // 4. Prove the fixed ports work end to end, as any other process will use them.
            SelfCheck(bootstrap, options);

            if (options.OutFile is not null)
            {
                WriteAtomically(options.OutFile, bootstrap + "\n");
            }

            control?.SetReady(cluster, bootstrap);
            Console.WriteLine($"READY in {clock.ElapsedMilliseconds} ms: BOOTSTRAP={bootstrap}"
                + (control is null ? "" : $" CONTROL=http://127.0.0.1:{control.Port}")
                + $" initial-rebalance-delay={options.RebalanceDelayMs}ms");

            try
            {
                await Task.Delay(Timeout.Infinite, stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // SIGTERM / SIGINT
            }

            Console.WriteLine("stopping: the mock cluster and all its data go away now");
            return ExitOk;
        }
        finally
        {
            control?.Dispose();
            foreach (var forwarder in forwarders)
            {
                forwarder.Dispose();
            }

            if (options.OutFile is not null && cluster is not null)
            {
                TryDelete(options.OutFile);
            }

            if (cluster is not null)
            {
                // rd_kafka_destroy can wait on broker threads; never hang a shutdown on it.
                var dispose = Task.Run(cluster.Dispose);
                if (!dispose.Wait(TimeSpan.FromSeconds(10)))
                {
                    await Console.Error.WriteLineAsync("mock cluster did not shut down within 10 s; exiting anyway").ConfigureAwait(false);
                }
            }
        }
    }

    private static void OnSignal(PosixSignalContext context, CancellationTokenSource stop)
    {
        context.Cancel = true; // we shut down ourselves
        stop.Cancel();
    }

    private static void SelfCheck(string bootstrap, MockOptions options)
    {
        var config = new AdminClientConfig { BootstrapServers = bootstrap, SocketTimeoutMs = 10_000 };
        using var admin = new AdminClientBuilder(config)
            .SetLogHandler((_, m) => Console.Error.WriteLine($"[self-check rdkafka {m.Level}] {m.Facility}: {m.Message}"))
            .Build();
        var metadata = admin.GetMetadata(TimeSpan.FromSeconds(15));
        var ports = metadata.Brokers.Select(b => $"{b.Host}:{b.Port}").Order(StringComparer.Ordinal).ToList();
        var expected = bootstrap.Split(',').Order(StringComparer.Ordinal).ToList();
        if (!ports.SequenceEqual(expected))
        {
            throw new InvalidOperationException($"self-check: brokers advertise [{string.Join(',', ports)}], expected [{string.Join(',', expected)}]");
        }

        foreach (var topic in options.Topics)
        {
            var found = metadata.Topics.FirstOrDefault(t => t.Topic == topic.Name);
            if (found is null || found.Partitions.Count != topic.Partitions)
            {
                throw new InvalidOperationException($"self-check: topic {topic.Name} has {found?.Partitions.Count ?? 0} partitions, expected {topic.Partitions}");
            }
        }
    }

    private static void WriteAtomically(string path, string content)
    {
        var full = Path.GetFullPath(path);
        var temp = full + ".tmp";
        File.WriteAllText(temp, content);
        File.Move(temp, full, overwrite: true);
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // best effort
        }
    }

    private static string Describe(SocketException e) =>
        e.SocketErrorCode == SocketError.AddressAlreadyInUse ? "already in use by another process" : $"{e.SocketErrorCode}: {e.Message}";

    private static void PrintNotice(MockOptions options)
    {
        var last = options.BasePort + options.Brokers - 1;
        Console.WriteLine(
            $"""
            ################################################################################
            ##
            ##   THIS IS NOT A REAL KAFKA BROKER.
            ##
            ##   Monitor.KafkaMock runs librdkafka's in-memory MOCK cluster ({options.Brokers} brokers on
            ##   127.0.0.1:{options.BasePort}-{last}): a TEST DOUBLE for local development and tests only.
            ##
            ##   * Every topic, message and committed offset lives in this process's memory
            ##     and is LOST when it exits.
            ##   * Each partition keeps only ~5 MiB / 100k message sets: a consumer that
            ##     falls far behind silently loses data.
            ##   * Not for production, Kafka benchmarks or durability tests.
            ##
            ##   To use a real broker, set Kafka__BootstrapServers=host:port[,host:port...]
            ##   (deploy/stack.sh then starts no mock).
            ##
            ################################################################################
            """);
    }
}

/// <summary>A fixed port the mock needs is taken.</summary>
internal sealed class PortInUseException(string message, Exception inner) : Exception(message, inner);
