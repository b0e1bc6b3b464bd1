using System.Text.Json;
using Microsoft.Extensions.Options;
using Monitor.Agent.Collectors;
using Monitor.Agent.Options;
using Monitor.Agent.Sending;
using Monitor.Protos.V1;

namespace Monitor.Agent;

/// <summary>The command-line modes: <c>--check-config</c>, <c>--once</c>, and the checks before a normal start.</summary>
internal static class AgentCommands
{
    public const string Once = "--once";
    public const string CheckConfig = "--check-config";

    public static string[] ConfigurationArgs(string[] args) => args.Where(a => a is not (Once or CheckConfig)).ToArray();

    /// <summary>Binds and validates <c>Agent</c>; prints every problem (each names its key) and returns false when there is one.</summary>
    public static bool ValidateConfiguration(IServiceProvider services, TextWriter error)
    {
        try
        {
            _ = services.GetRequiredService<IOptions<AgentOptions>>().Value;
            return true;
        }
        catch (OptionsValidationException ex)
        {
            foreach (var failure in ex.Failures)
            {
                error.WriteLine($"monitor-agent: configuration error: {NameKey(failure)}");
            }
        }
        catch (InvalidOperationException ex)
        {
            // The binder names the key: "Failed to convert configuration value at 'Agent:Interval' to type ...".
            error.WriteLine($"monitor-agent: configuration error: {ex.Message}");
        }
        return false;
    }

    /// <summary>The generated validator starts messages with the member path ("Discovery.Prefix: ..."); print the configuration key.</summary>
    internal static string NameKey(string failure)
    {
        if (failure.StartsWith(AgentOptions.SectionName + ":", StringComparison.Ordinal))
        {
            return failure;
        }
        var colon = failure.IndexOf(": ", StringComparison.Ordinal);
        if (colon > 0 && failure.AsSpan(colon + 2).StartsWith(AgentOptions.SectionName + ":", StringComparison.Ordinal))
        {
            return failure[(colon + 2)..];
        }
        return colon > 0 && !failure.AsSpan(0, colon).Contains(' ')
            ? $"{AgentOptions.SectionName}:{failure[..colon].Replace('.', ':')}{failure[colon..]}"
            : failure;
    }

    /// <summary><c>--check-config</c>: besides the options, the spool directory must be creatable and writable.</summary>
    public static int CheckSpoolDirectory(IServiceProvider services, TextWriter output, TextWriter error)
    {
        var dir = services.GetRequiredService<IOptions<AgentOptions>>().Value.SpoolDirectory;
        try
        {
            Directory.CreateDirectory(dir);
            var probe = Path.Combine(dir, $".check-{Environment.ProcessId}.tmp");
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"monitor-agent: configuration error: Agent:SpoolDirectory '{dir}' is not writable: {ex.Message}");
            return 1;
        }
        output.WriteLine("monitor-agent: configuration OK");
        return 0;
    }

    public static bool OpenSpool(IServiceProvider services, TextWriter error)
    {
        try
        {
            services.GetRequiredService<Spool>().Open();
            return true;
        }
        catch (InvalidOperationException ex)
        {
            error.WriteLine($"monitor-agent: configuration error: {ex.Message}");
            return false;
        }
    }

    /// <summary><c>--once</c>: two readings one second apart (rates need a baseline), printed as one JSON snapshot.</summary>
    public static async Task<int> PrintOnceAsync(IServiceProvider services, TextWriter output)
    {
        var collector = services.GetRequiredService<HostCollector>();
        var timeProvider = services.GetRequiredService<TimeProvider>();
        var options = services.GetRequiredService<IOptions<AgentOptions>>().Value;
        await collector.PrimeAsync(CancellationToken.None).ConfigureAwait(false);
        await Task.Delay(TimeSpan.FromSeconds(1), timeProvider).ConfigureAwait(false);
        var samples = new List<Sample>();
        var timestamp = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        await collector.CollectAsync(timestamp, samples, CancellationToken.None).ConfigureAwait(false);

        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("hostId", options.EffectiveHostId);
            json.WriteNumber("timestampUnixMs", timestamp);
            json.WriteStartArray("samples");
            foreach (var s in samples)
            {
                json.WriteStartObject();
                json.WriteString("metric", s.Metric);
                json.WriteNumber("value", s.Value);
                if (s.Labels.Count > 0)
                {
                    json.WriteStartObject("labels");
                    foreach (var (k, v) in s.Labels)
                    {
                        json.WriteString(k, v);
                    }
                    json.WriteEndObject();
                }
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        await output.WriteLineAsync(System.Text.Encoding.UTF8.GetString(stream.ToArray())).ConfigureAwait(false);
        await output.FlushAsync().ConfigureAwait(false);
        return 0;
    }
}
