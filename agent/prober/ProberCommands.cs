using Microsoft.Extensions.Options;
using Monitor.Agent.Options;
using Monitor.Agent.Sending;
using Monitor.Prober.Options;
using Monitor.Prober.Targets;

namespace Monitor.Prober;

/// <summary>Start-up checks of <c>monitor-prober</c>; every error names its key and carries no value.</summary>
internal static class ProberCommands
{
    public const string CheckConfig = "--check-config";

    public static bool ValidateConfiguration(IServiceProvider services, TextWriter error)
    {
        try
        {
            _ = services.GetRequiredService<IOptions<AgentOptions>>().Value;
            var prober = services.GetRequiredService<IOptions<ProberOptions>>().Value;
            var targets = services.GetRequiredService<TargetStore>().Of(TargetStore.StaticSource);
            var errors = StaticTargets.Validate(targets);
            if (prober.Manage.Address is { Length: > 0 } address
                && !(Uri.TryCreate(address, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
            {
                errors.Add("Probes:Manage:Address must be an absolute http:// or https:// URL");
            }
            foreach (var e in errors)
            {
                error.WriteLine($"monitor-prober: configuration error: {e}");
            }
            return errors.Count == 0;
        }
        catch (OptionsValidationException ex)
        {
            foreach (var failure in ex.Failures)
            {
                error.WriteLine($"monitor-prober: configuration error: {failure}");
            }
        }
        catch (InvalidOperationException ex)
        {
            error.WriteLine($"monitor-prober: configuration error: {ex.Message}");
        }
        return false;
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
            error.WriteLine($"monitor-prober: configuration error: {ex.Message}");
            return false;
        }
    }
}
