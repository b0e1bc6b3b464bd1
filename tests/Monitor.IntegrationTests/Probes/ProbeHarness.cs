using Monitor.Prober.Probes;
using Monitor.Prober.Targets;
using Xunit;

namespace Monitor.IntegrationTests.Probes;

/// <summary>Builds a target from type + JSON config exactly as the prober does and runs it once under the runner's deadline.</summary>
internal static class ProbeHarness
{
    public static async Task<ProbeResult> RunAsync(string type, string json, double timeoutSeconds = 5)
    {
        var target = new TargetDefinition("itest", type, TargetDefinition.ConfigFromJson(json), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(timeoutSeconds), true);
        var probe = new ProbeFactory(TimeProvider.System).Create(target);
        return await new ProbeRunner(TimeProvider.System).RunAsync(probe, target, TestContext.Current.CancellationToken);
    }

    public static double Metric(this ProbeResult result, string name, string? labelKey = null, string? labelValue = null)
    {
        var match = result.Metrics.Where(m => m.Name == name && (labelKey is null || (m.Labels?.GetValueOrDefault(labelKey) == labelValue))).ToList();
        Assert.True(match.Count == 1, $"expected one {name} metric, got {match.Count}: {string.Join(", ", result.Metrics.Select(m => m.Name))} (message: {result.Message})");
        return match[0].Value;
    }

    public static bool Has(this ProbeResult result, string name) => result.Metrics.Any(m => m.Name == name);

    public static string Describe(this ProbeResult result) => $"success={result.Success} failure={result.Failure} message='{result.Message}'";
}
