using System.Globalization;
using System.Text.Json;

namespace Monitor.TestUtilities;

/// <summary>A throw-away InfluxDB database for one fixture, read back with plain InfluxQL over HTTP.</summary>
public sealed class InfluxTestDatabase : IAsyncDisposable
{
    private readonly HttpClient _http;

    private InfluxTestDatabase(HttpClient http, string name)
    {
        _http = http;
        Name = name;
    }

    public string Name { get; }
    public string Url => _http.BaseAddress!.ToString().TrimEnd('/');

    public static async Task<InfluxTestDatabase> CreateAsync(CancellationToken cancellationToken = default) =>
        await CreateAsync(StackEnvironment.Influx, cancellationToken);

    public static async Task<InfluxTestDatabase> CreateAsync(string influxUrl, CancellationToken cancellationToken = default)
    {
        var http = new HttpClient { BaseAddress = new Uri(influxUrl), Timeout = TimeSpan.FromSeconds(30) };
        var db = new InfluxTestDatabase(http, "monitor_test_" + Guid.NewGuid().ToString("N")[..12]);
        await db.ExecuteAsync($"CREATE DATABASE \"{db.Name}\"", cancellationToken);
        return db;
    }

    public async Task<JsonElement> ExecuteAsync(string influxQl, CancellationToken cancellationToken = default)
    {
        using var content = new FormUrlEncodedContent([new("q", influxQl), new("db", Name), new("epoch", "ms")]);
        using var response = await _http.PostAsync("/query", content, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode || body.Contains("\"error\"", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"InfluxQL failed ({(int)response.StatusCode}): {influxQl} -> {body}");
        }
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>All points (measurement, time ms, value, tags) of <paramref name="measurements"/> for one host.</summary>
    public async Task<List<StoredPoint>> PointsAsync(string hostId, IEnumerable<string> measurements, CancellationToken cancellationToken = default)
    {
        var from = string.Join(",", measurements.Select(m => $"\"{m}\""));
        var root = await ExecuteAsync($"SELECT * FROM {from} WHERE \"host_id\" = '{hostId.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal)}'", cancellationToken);
        var points = new List<StoredPoint>();
        foreach (var result in root.GetProperty("results").EnumerateArray())
        {
            if (!result.TryGetProperty("series", out var series))
            {
                continue;
            }
            foreach (var s in series.EnumerateArray())
            {
                var name = s.GetProperty("name").GetString()!;
                var columns = s.GetProperty("columns").EnumerateArray().Select(c => c.GetString()!).ToList();
                foreach (var row in s.GetProperty("values").EnumerateArray())
                {
                    var cells = row.EnumerateArray().ToList();
                    var tags = new Dictionary<string, string>();
                    long time = 0;
                    double value = double.NaN;
                    for (int i = 0; i < columns.Count; i++)
                    {
                        switch (columns[i])
                        {
                            case "time": time = cells[i].GetInt64(); break;
                            case "value": value = cells[i].GetDouble(); break;
                            default:
                                if (cells[i].ValueKind == JsonValueKind.String)
                                {
                                    tags[columns[i]] = cells[i].GetString()!;
                                }
                                break;
                        }
                    }
                    points.Add(new StoredPoint(name, time, value, tags));
                }
            }
        }
        return points;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await ExecuteAsync($"DROP DATABASE \"{Name}\"");
        }
        catch (Exception ex) when (ex is HttpRequestException or InvalidOperationException or TaskCanceledException)
        {
            // Best effort: a leftover test database is harmless.
        }
        _http.Dispose();
    }
}

public sealed record StoredPoint(string Measurement, long TimestampUnixMs, double Value, IReadOnlyDictionary<string, string> Tags)
{
    public override string ToString() => $"{Measurement}@{TimestampUnixMs}={Value.ToString("R", CultureInfo.InvariantCulture)}";
}
