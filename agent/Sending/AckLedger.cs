using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using Monitor.Agent.Options;
using Monitor.Protos.V1;

namespace Monitor.Agent.Sending;

/// <summary>One acknowledged sample in the audit ledger.</summary>
internal sealed record LedgerEntry(string Host, ulong Sequence, string Metric, IReadOnlyDictionary<string, string> Labels, double Value, long TimestampUnixMs);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(LedgerEntry))]
internal sealed partial class LedgerJsonContext : JsonSerializerContext;

/// <summary>Appends every acknowledged, accepted sample to <c>Agent:LedgerPath</c> (when set) as JSON lines.</summary>
internal sealed class AckLedger : IDisposable
{
    private readonly StreamWriter? _writer;
    private readonly Lock _lock = new();

    public AckLedger(IOptions<AgentOptions> options)
    {
        var path = options.Value.LedgerPath;
        if (!string.IsNullOrEmpty(path))
        {
            _writer = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        }
    }

    public bool Enabled => _writer is not null;

    public void Record(SampleBatch batch, ReportAck ack)
    {
        if (_writer is null)
        {
            return;
        }
        var rejected = ack.Rejections.Any(r => r.Index < 0)
            ? null
            : ack.Rejections.Select(r => r.Index).ToHashSet();
        if (rejected is null)
        {
            return;
        }
        lock (_lock)
        {
            for (int i = 0; i < batch.Samples.Count; i++)
            {
                if (rejected.Contains(i))
                {
                    continue;
                }
                var s = batch.Samples[i];
                _writer.WriteLine(JsonSerializer.Serialize(
                    new LedgerEntry(batch.HostId, batch.Sequence, s.Metric, s.Labels, s.Value, s.TimestampUnixMs),
                    LedgerJsonContext.Default.LedgerEntry));
            }
        }
    }

    public void Dispose() => _writer?.Dispose();
}
