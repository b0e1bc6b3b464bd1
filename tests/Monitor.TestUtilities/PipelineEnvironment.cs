namespace Monitor.TestUtilities;

/// <summary>The configuration every pipeline process of a test shares: the stack's Kafka and etcd, the test's own topics and registry prefix.</summary>
public static class PipelineEnvironment
{
    /// <summary>Base settings for a service or agent process, with <paramref name="extra"/> applied on top.</summary>
    public static Dictionary<string, string> For(string topic, string deadLetterTopic, string etcdPrefix, IReadOnlyDictionary<string, string> extra)
    {
        var env = new Dictionary<string, string>
        {
            ["Kafka__BootstrapServers"] = StackEnvironment.Kafka,
            ["Kafka__SamplesTopic"] = topic,
            ["Kafka__DeadLetterTopic"] = deadLetterTopic,
            ["Etcd__Endpoints__0"] = StackEnvironment.Etcd,
            ["Etcd__Prefix"] = etcdPrefix,
            ["Etcd__LeaseTtl"] = "00:00:05",
            ["Auth__Enabled"] = "false",
        };
        foreach (var (key, value) in extra)
        {
            env[key] = value;
        }
        return env;
    }
}
