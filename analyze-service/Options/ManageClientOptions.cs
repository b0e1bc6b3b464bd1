using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Monitor.AnalyzeService.Options;

/// <summary>Where the manage service (location → hosts) is reached (section <c>Manage</c>).</summary>
public sealed class ManageClientOptions
{
    public const string SectionName = "Manage";

    /// <summary>
    /// gRPC address of the manage service: <c>etcd:///manage</c> (what appsettings.json ships) discovers the live
    /// instances in the etcd registry and fails over between them; a static URL (an instance or nginx's gRPC entry)
    /// is used as is. The default without configuration is <c>http://127.0.0.1:8050</c>.
    /// </summary>
    [Required]
    public Uri Address { get; set; } = new("http://127.0.0.1:8050");

    /// <summary>How long the hosts of a location are cached. The default is 10 seconds; zero disables the cache.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan LocationCacheTtl { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Time limit of one call to the manage service. The default is 5 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(5);
}

[OptionsValidator]
internal sealed partial class ManageClientOptionsValidator : IValidateOptions<ManageClientOptions>;
