using System.Runtime.InteropServices;
using Monitor.Influx;
using Monitor.Protos.V1;

namespace Monitor.PersistentService.Influx;

/// <summary>
/// Maps a <see cref="SampleBatch"/> onto the schema of ARCHITECTURE.md: measurement = metric,
/// tags = <c>host_id</c> + labels, field <c>value</c> (plus the string field <c>message</c> when the sample has
/// one), millisecond timestamp.
/// </summary>
internal sealed class BatchLineEncoder
{
    public const string HostTag = "host_id";
    public const string ValueField = "value";
    public const string MessageField = "message";

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
            if (sample.Message.Length == 0)
            {
                builder.AppendPoint(sample.Metric, _tags, ValueField, sample.Value, sample.TimestampUnixMs);
            }
            else
            {
                builder.AppendPoint(sample.Metric, CollectionsMarshal.AsSpan(_tags), ValueField, sample.Value,
                    MessageField, WithoutControlCharacters(sample.Message), sample.TimestampUnixMs);
            }
        }
    }

    /// <summary>Free text may hold line breaks or tabs, which line protocol cannot carry: they become spaces.</summary>
    internal static string WithoutControlCharacters(string text)
    {
        if (!text.AsSpan().ContainsAnyInRange('\u0000', '\u001F'))
        {
            return text;
        }

        return string.Create(text.Length, text, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                span[i] = source[i] < ' ' ? ' ' : source[i];
            }
        });
    }
}
