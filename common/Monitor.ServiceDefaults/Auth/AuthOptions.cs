using System.ComponentModel.DataAnnotations;

namespace Monitor.ServiceDefaults.Auth;

/// <summary>Access-control settings (section <c>Auth</c>); see docs/access.md.</summary>
public sealed class AuthOptions
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "Auth";

    /// <summary>Name of the console's session cookie.</summary>
    public const string SessionCookieName = "monitor_session";

    /// <summary>
    /// Whether callers must authenticate. The default is <c>true</c> (and every shipped appsettings.json says so);
    /// with <c>false</c> every caller is an anonymous administrator and the service logs a warning at start-up.
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Whether the original system's endpoints (legacy HTTP routes, <c>proto.Report/Report</c>) accept callers
    /// without credentials. The default is <c>false</c> (they answer 401 / Unauthenticated).
    /// </summary>
    public bool AllowAnonymousLegacy { get; set; }

    /// <summary>
    /// How long a validated credential (or a rejection) is cached by a service. Revocations announced through
    /// <see cref="RevocationKey"/> drop the cache at once. The default is 5 seconds.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00")]
    public TimeSpan CacheDuration { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Base URL of the manage service's HTTP API (e.g. <c>http://127.0.0.1:8060</c>), which validates tokens and
    /// sessions for the other services. Unused by the manage service itself. The default is none (required when
    /// <see cref="Enabled"/> on analyze, warning and report services).
    /// </summary>
    public string? ManageUrl { get; set; }

    /// <summary>
    /// API token this service sends on its own calls to other Monitor services (e.g. analyze and warning → manage
    /// gRPC; a viewer token suffices). Pass it through the environment (<c>Auth__ServiceToken</c>). The default is none.
    /// </summary>
    public string? ServiceToken { get; set; }

    /// <summary>
    /// etcd key the manage service bumps whenever a token, session or user is revoked, disabled or changed;
    /// every service watches it and empties its credential cache. The default is <c>/monitor/auth/revision</c>.
    /// </summary>
    [Required]
    [RegularExpression("^/[A-Za-z0-9/_.-]*[^/]$")]
    public string RevocationKey { get; set; } = "/monitor/auth/revision";
}

[Microsoft.Extensions.Options.OptionsValidator]
internal sealed partial class AuthOptionsValidator : Microsoft.Extensions.Options.IValidateOptions<AuthOptions>;
