using Monitor.Prober.Options;
using Monitor.Prober.Probes;

namespace Monitor.Prober.Targets;

/// <summary>
/// Targets from configuration (<c>Probes:Targets</c>). The type settings under each entry's
/// <c>Config</c> are free-form (validated per type), so they are read as a configuration section
/// rather than bound into <see cref="ProberOptions"/>.
/// </summary>
internal static class StaticTargets
{
    public static List<TargetDefinition> Read(IConfiguration configuration, ProberOptions options)
    {
        var list = new List<TargetDefinition>();
        for (int i = 0; i < options.Targets.Count; i++)
        {
            var t = options.Targets[i];
            var config = configuration.GetSection($"{ProberOptions.SectionName}:Targets:{i}:Config");
            list.Add(new TargetDefinition(t.Name, t.Type, config, t.Interval, t.Timeout, t.Enabled));
        }
        return list;
    }

    /// <summary>Every field error of the static targets, each naming its key (e.g. <c>Probes:Targets:0:Config:Url</c>).</summary>
    public static List<string> Validate(IReadOnlyList<TargetDefinition> targets)
    {
        var errors = new List<string>();
        for (int i = 0; i < targets.Count; i++)
        {
            errors.AddRange(ProbeFactory.Validate(targets[i], $"{ProberOptions.SectionName}:Targets:{i}:"));
        }
        foreach (var duplicate in targets.GroupBy(t => t.Name, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            errors.Add($"{ProberOptions.SectionName}:Targets: the name '{duplicate.Key}' is used {duplicate.Count()} times");
        }
        return errors;
    }
}
