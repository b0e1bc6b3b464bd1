using System.ComponentModel.DataAnnotations;

namespace Monitor.Influx;

/// <summary>
/// Connection settings for InfluxDB, bound from the <c>Influx</c> configuration section.
/// </summary>
/// <remarks>
/// Monitor talks to InfluxDB through the v1 HTTP API (<c>/write</c> and <c>/query</c>), which InfluxDB 1.x serves
/// natively and 2.x/3.x serve as a compatibility endpoint. Use <see cref="Username"/>/<see cref="Password"/> for 1.x
/// and <see cref="Token"/> for 2.x/3.x; never both. The secrets are never logged and <see cref="ToString"/> hides them.
/// </remarks>
public sealed class InfluxOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "Influx";

    /// <summary>
    /// Gets or sets the base URL of the InfluxDB HTTP API. It must be an absolute <c>http</c> or <c>https</c> URL;
    /// a path prefix (for a reverse proxy) is kept.
    /// </summary>
    /// <value>The default value is <c>http://127.0.0.1:8086</c>.</value>
    [Required]
    public Uri Url { get; set; } = new("http://127.0.0.1:8086", UriKind.Absolute);

    /// <summary>
    /// Gets or sets the database to write to and query (the <c>db</c> parameter; on 2.x/3.x a database mapped to a
    /// bucket). 1 to 64 characters from <c>A-Z a-z 0-9 _ -</c>.
    /// </summary>
    /// <value>The default value is <c>monitor</c>.</value>
    [Required]
    [RegularExpression("^[A-Za-z0-9_-]{1,64}$")]
    public string Database { get; set; } = "monitor";

    /// <summary>
    /// Gets or sets the retention policy to write to and query (the <c>rp</c> parameter).
    /// <see langword="null"/> or empty uses the database's default retention policy.
    /// </summary>
    /// <value>The default value is <see langword="null"/>.</value>
    [StringLength(255)]
    public string? RetentionPolicy { get; set; }

    /// <summary>
    /// Gets or sets the InfluxDB 1.x user name, sent with <see cref="Password"/> as HTTP Basic authentication.
    /// Requires <see cref="Password"/>; must not be combined with <see cref="Token"/>.
    /// </summary>
    /// <value>The default value is <see langword="null"/> (no authentication).</value>
    public string? Username { get; set; }

    /// <summary>Gets or sets the InfluxDB 1.x password that goes with <see cref="Username"/>. Never logged.</summary>
    /// <value>The default value is <see langword="null"/>.</value>
    public string? Password { get; set; }

    /// <summary>
    /// Gets or sets the API token for InfluxDB 2.x/3.x, sent as <c>Authorization: Token &lt;token&gt;</c>.
    /// Must not be combined with <see cref="Username"/>. Never logged.
    /// </summary>
    /// <value>The default value is <see langword="null"/> (no authentication).</value>
    public string? Token { get; set; }

    /// <summary>
    /// Gets or sets the time limit for one HTTP request to InfluxDB (a write or a query), from sending the request to
    /// reading the whole response. Between 100 milliseconds and 10 minutes.
    /// </summary>
    /// <value>The default value is 10 seconds.</value>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Gets or sets a value indicating whether write bodies are gzip-compressed (<c>Content-Encoding: gzip</c>).
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool Gzip { get; set; } = true;

    /// <summary>
    /// Gets or sets the largest number of points a writer puts into one <c>/write</c> request. Between 1 and 1,000,000
    /// points. InfluxDB recommends batches of about 5,000 points.
    /// </summary>
    /// <value>The default value is 5,000 points.</value>
    [Range(1, 1_000_000)]
    public int MaxBatchPoints { get; set; } = 5000;

    /// <summary>Describes the options without their secrets, for diagnostics.</summary>
    /// <returns>A description naming the URL, database and authentication kind, never the password or token.</returns>
    public override string ToString()
    {
        var auth = !string.IsNullOrEmpty(Token) ? "token" : !string.IsNullOrEmpty(Username) ? "basic" : "none";
        return $"InfluxOptions {{ Url = {Url}, Database = {Database}, RetentionPolicy = {RetentionPolicy}, Auth = {auth} }}";
    }
}
