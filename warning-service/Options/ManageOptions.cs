using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Monitor.WarningService.Options;

/// <summary>Where host → location comes from (section <c>Manage</c>), for location-scoped rules and silences.</summary>
public sealed class ManageOptions
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "Manage";

    /// <summary>
    /// gRPC address of the manage service: <c>etcd:///manage</c> (what appsettings.json ships) discovers the live
    /// instances in the etcd registry and fails over between them; a static URL such as <c>http://127.0.0.1:8050</c>
    /// is used as is. Empty (the default without configuration): no locations are known.
    /// </summary>
    public Uri? Address { get; set; }

    /// <summary>How often the host list is re-read from the manage service. The default is 30 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Time limit of one call to the manage service. The default is 5 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(5);
}

[OptionsValidator]
internal sealed partial class ManageOptionsValidator : IValidateOptions<ManageOptions>;
