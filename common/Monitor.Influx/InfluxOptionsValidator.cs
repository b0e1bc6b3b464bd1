using Microsoft.Extensions.Options;

namespace Monitor.Influx;

/// <summary>Checks the data-annotation rules of <see cref="InfluxOptions"/> (generated at compile time).</summary>
[OptionsValidator]
internal sealed partial class InfluxOptionsValidator : IValidateOptions<InfluxOptions>;

/// <summary>Checks the rules of <see cref="InfluxOptions"/> that span several properties or need code.</summary>
internal sealed class InfluxOptionsCustomValidator : IValidateOptions<InfluxOptions>
{
    public ValidateOptionsResult Validate(string? name, InfluxOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = new ValidateOptionsResultBuilder();
        var section = InfluxOptions.SectionName;

        var url = options.Url;
        if (url is not null)
        {
            if (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
            {
                builder.AddError("must be an absolute http:// or https:// URL", $"{section}:{nameof(InfluxOptions.Url)}");
            }
            else if (!string.IsNullOrEmpty(url.UserInfo) || !string.IsNullOrEmpty(url.Query) || !string.IsNullOrEmpty(url.Fragment))
            {
                // Credentials in the URL would end up in logs; they belong in Username/Password or Token.
                builder.AddError(
                    "must not contain user info, a query or a fragment; put credentials in Username/Password or Token",
                    $"{section}:{nameof(InfluxOptions.Url)}");
            }
        }

        var hasUser = !string.IsNullOrEmpty(options.Username);
        var hasPassword = !string.IsNullOrEmpty(options.Password);
        var hasToken = !string.IsNullOrEmpty(options.Token);

        if (hasUser && !hasPassword)
        {
            builder.AddError(
                $"is required when {section}:{nameof(InfluxOptions.Username)} is set",
                $"{section}:{nameof(InfluxOptions.Password)}");
        }

        if (hasPassword && !hasUser)
        {
            builder.AddError(
                $"is required when {section}:{nameof(InfluxOptions.Password)} is set",
                $"{section}:{nameof(InfluxOptions.Username)}");
        }

        if (hasToken && (hasUser || hasPassword))
        {
            builder.AddError(
                $"must not be combined with {section}:{nameof(InfluxOptions.Username)}/{nameof(InfluxOptions.Password)}; "
                + "use a token (InfluxDB 2.x/3.x) or a user name and password (InfluxDB 1.x), not both",
                $"{section}:{nameof(InfluxOptions.Token)}");
        }

        if (options.Username is { } user && user.Contains(':', StringComparison.Ordinal))
        {
            // HTTP Basic authentication cannot carry a colon in the user name.
            builder.AddError("must not contain ':'", $"{section}:{nameof(InfluxOptions.Username)}");
        }

        if (options.RetentionPolicy is { Length: > 0 } rp && rp.AsSpan().ContainsAny('\n', '\r'))
        {
            builder.AddError("must not contain line breaks", $"{section}:{nameof(InfluxOptions.RetentionPolicy)}");
        }

        return builder.Build();
    }
}
