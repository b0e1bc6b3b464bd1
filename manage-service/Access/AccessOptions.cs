using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Monitor.ManageService.Access;

/// <summary>Manage-side access settings (section <c>Auth</c>, next to the common <c>Auth:Enabled</c> etc.).</summary>
public sealed class AccessOptions
{
    public const string SectionName = "Auth";

    /// <summary>First administrator, created at start-up when no user exists (section <c>Auth:BootstrapAdmin</c>). The default is none.</summary>
    public BootstrapAdminOptions BootstrapAdmin { get; set; } = new();

    /// <summary>Lifetime of a console session. The default is 12 hours.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "30.00:00:00")]
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(12);

    /// <summary>PBKDF2-SHA256 iterations for new password hashes. The default is 210,000 (OWASP 2023: ≥ 600,000 for SHA-256 is ideal; 210k keeps logins under ~100 ms).</summary>
    [Range(100_000, 10_000_000)]
    public int PasswordIterations { get; set; } = 210_000;

    /// <summary>Failed logins per user name within <see cref="LoginWindow"/> before further attempts get 429. The default is 5.</summary>
    [Range(1, 1000)]
    public int MaxFailedLoginsPerUser { get; set; } = 5;

    /// <summary>Failed logins per client address within <see cref="LoginWindow"/> before further attempts get 429. The default is 20.</summary>
    [Range(1, 100_000)]
    public int MaxFailedLoginsPerAddress { get; set; } = 20;

    /// <summary>Window of the login throttle. The default is 5 minutes.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan LoginWindow { get; set; } = TimeSpan.FromMinutes(5);
}

/// <summary>The first administrator (section <c>Auth:BootstrapAdmin</c>).</summary>
public sealed class BootstrapAdminOptions
{
    /// <summary>User name. The default is none (no bootstrap).</summary>
    public string? Name { get; set; }

    /// <summary>Password (pass it through the environment or a secret store, never a committed file). The default is none.</summary>
    public string? Password { get; set; }
}

[OptionsValidator]
internal sealed partial class AccessOptionsValidator : IValidateOptions<AccessOptions>;
