using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Monitor.Influx;
using Monitor.ManageService.Liveness;
using Xunit;

namespace Monitor.ManageService.UnitTests;

public sealed class LivenessTrackerTests
{
    [Fact]
    public void BuildQuery_QuotesMeasurementsAndUsesAbsoluteTime()
    {
        // Act
        var query = LivenessTracker.BuildQuery(["cpu_rate", "mem_rate"], DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));

        // Assert
        Assert.Equal("SELECT last(\"value\") FROM \"cpu_rate\",\"mem_rate\" WHERE time > 1700000000000ms GROUP BY \"host_id\"", query);
    }

    [Fact]
    public void Merge_KeepsTheNewestTimePerHost_AcrossMeasurements()
    {
        // Arrange
        static InfluxSeries Series(string name, string host, long timeMs) => new(name, new Dictionary<string, string> { ["host_id"] = host },
            ["time", "last"], [[JsonDocument.Parse(timeMs.ToString(CultureInfo.InvariantCulture)).RootElement, JsonDocument.Parse("1.5").RootElement]]);
        var result = new InfluxQueryResult([new InfluxStatementResult(0,
        [
            Series("cpu_rate", "a", 2000),
            Series("mem_rate", "a", 3000),
            Series("cpu_rate", "b", 1000),
            Series("cpu_rate", "", 5000),
        ])]);
        var lastSeen = new ConcurrentDictionary<string, DateTimeOffset>(StringComparer.Ordinal)
        {
            ["b"] = DateTimeOffset.FromUnixTimeMilliseconds(1500),
        };

        // Act
        var series = LivenessTracker.Merge(lastSeen, result);

        // Assert: a last-seen time never moves backwards; series without a host id are ignored.
        Assert.Equal(3, series);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(3000), lastSeen["a"]);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1500), lastSeen["b"]);
        Assert.Equal(2, lastSeen.Count);
    }
}
