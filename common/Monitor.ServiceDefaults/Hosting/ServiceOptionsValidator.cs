using Microsoft.Extensions.Options;

namespace Monitor.ServiceDefaults.Hosting;

[OptionsValidator]
internal sealed partial class ServiceOptionsValidator : IValidateOptions<ServiceOptions>;

/// <summary>Checks that every configured URL is an absolute http(s) URL with an explicit port.</summary>
internal sealed class ServiceOptionsUrlValidator : IValidateOptions<ServiceOptions>
{
    public ValidateOptionsResult Validate(string? name, ServiceOptions options)
    {
        var failures = new List<string>();
        Check(failures, "Service:HttpUrl", options.HttpUrl, required: true);
        Check(failures, "Service:GrpcUrl", options.GrpcUrl, required: false);
        Check(failures, "Service:AdminUrl", options.AdminUrl, required: false);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    internal static void Check(List<string> failures, string key, string? value, bool required)
    {
        if (string.IsNullOrEmpty(value))
        {
            if (required)
            {
                failures.Add($"{key} is required.");
            }
            return;
        }
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
        {
            failures.Add($"{key} must be an absolute http:// or https:// URL (got '{value}').");
        }
    }
}
