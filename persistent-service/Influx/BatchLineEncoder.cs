using Monitor.Influx;
using Monitor.Protos.V1;

namespace Monitor.PersistentService.Influx;

/// <summary>
/// Maps a <see cref="SampleBatch"/> onto the schema of ARCHITECTURE.md: measurement = metric,
/// tags = <c>host_id</c> + labels, field <c>value</c>, millisecond timestamp.
/// </summary>
internal sealed class BatchLineEncoder
{
    public const string HostTag = "host_id";
    public const string ValueField = "value";

    private readonly List<KeyValuePair<string, string>> _tags = new(16);

    /// <summary>Appends every sample of the batch; throws <see cref="ArgumentException"/> for content line protocol cannot carry.</summary>
    public void Append(LineProtocolBuilder builder, SampleBatch batch)
    {
        foreach (var sample in batch.Samples)
        {
            _tags.Clear();
            _tags.Add(new(HostTag, batch.HostId));
            if (sample.Labels.Count > 0)
            {
                foreach (var label in sample.Labels)
                {
                    _tags.Add(label);
                }
            }
            builder.AppendPoint(sample.Metric, _tags, ValueField, sample.Value, sample.TimestampUnixMs);
        }
    }
}
