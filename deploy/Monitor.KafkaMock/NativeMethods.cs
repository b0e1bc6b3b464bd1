using System.Reflection;
using System.Runtime.InteropServices;

namespace Monitor.KafkaMock;

/// <summary>
/// librdkafka's mock-cluster API (rdkafka_mock.h), which Confluent.Kafka does not wrap.
/// </summary>
internal static partial class NativeMethods
{
    private const string Lib = "librdkafka";

    /// <summary>
    /// Binds <see cref="Lib"/> to the exact librdkafka.so Confluent.Kafka already loaded: on Debian 12 it falls
    /// back to its centos8-librdkafka.so variant (the default one needs libsasl2.so.3), and a second, different
    /// copy of librdkafka in the process would not know the mock cluster. Call after the first Kafka client exists.
    /// </summary>
    public static void BindToLoadedLibrdkafka()
    {
        NativeLibrary.SetDllImportResolver(typeof(NativeMethods).Assembly, static (name, _, _) =>
        {
            if (name != Lib)
            {
                return IntPtr.Zero;
            }

            var loaded = FindLoadedLibrdkafka()
                ?? throw new DllNotFoundException("librdkafka is not loaded yet: create a Confluent.Kafka client before calling the mock API");
            return NativeLibrary.Load(loaded);
        });
    }

    /// <summary>Path of the librdkafka*.so mapped into this process, from /proc/self/maps.</summary>
    public static string? FindLoadedLibrdkafka()
    {
        foreach (var line in File.ReadLines("/proc/self/maps"))
        {
            var slash = line.IndexOf('/', StringComparison.Ordinal);
            if (slash >= 0 && line.EndsWith("librdkafka.so", StringComparison.Ordinal))
            {
                return line[slash..];
            }
        }

        return null;
    }

    /// <summary>The raw <c>rd_kafka_t*</c> behind a Confluent.Kafka client (internal <c>Handle.LibrdkafkaHandle</c>).</summary>
    public static IntPtr GetRdKafkaHandle(Confluent.Kafka.Handle handle)
    {
        var property = typeof(Confluent.Kafka.Handle).GetProperty("LibrdkafkaHandle", BindingFlags.NonPublic | BindingFlags.Instance)
            ?? throw new MissingMemberException("Confluent.Kafka.Handle.LibrdkafkaHandle not found (Confluent.Kafka changed its internals)");
        var safeHandle = property.GetValue(handle) as SafeHandle
            ?? throw new InvalidOperationException("Confluent.Kafka.Handle.LibrdkafkaHandle is not a SafeHandle");
        return safeHandle.DangerousGetHandle();
    }

    [LibraryImport(Lib, EntryPoint = "rd_kafka_handle_mock_cluster")]
    internal static partial IntPtr HandleMockCluster(IntPtr rk);

    [LibraryImport(Lib, EntryPoint = "rd_kafka_mock_cluster_bootstraps")]
    internal static partial IntPtr MockClusterBootstraps(IntPtr mcluster);

    /// <returns>An rd_kafka_resp_err_t: 0, or TOPIC_ALREADY_EXISTS (36) when the name is taken.</returns>
    [LibraryImport(Lib, EntryPoint = "rd_kafka_mock_topic_create", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int MockTopicCreate(IntPtr mcluster, string topic, int partitionCount, int replicationFactor);

    /// <summary>Changes the host/port a broker advertises in Metadata (it keeps listening where it was).</summary>
    [LibraryImport(Lib, EntryPoint = "rd_kafka_mock_broker_set_host_port", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial void MockBrokerSetHostPort(IntPtr mcluster, int brokerId, string host, int port);

    [LibraryImport(Lib, EntryPoint = "rd_kafka_mock_group_initial_rebalance_delay_ms")]
    internal static partial void MockGroupInitialRebalanceDelayMs(IntPtr mcluster, int delayMs);
}
