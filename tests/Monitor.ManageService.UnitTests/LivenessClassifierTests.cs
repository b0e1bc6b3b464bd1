using Monitor.ManageService.Data;
using Monitor.ManageService.Liveness;
using Xunit;

namespace Monitor.ManageService.UnitTests;

public sealed class LivenessClassifierTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(3);

    private static HostEntity Host(string id, string location = "dc") =>
        new() { HostId = id, Location = location, CreatedAt = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc) };

    [Fact]
    public void Classify_EveryCombination_GivesTheExpectedState()
    {
        // Arrange
        var registered = new[] { Host("reporting"), Host("silent-seen"), Host("silent-never") };
        var deleted = new Dictionary<string, DateTime> { ["gone"] = new(2026, 1, 2, 0, 0, 0, DateTimeKind.Utc), ["gone-quiet"] = new(2026, 1, 2, 0, 0, 0, DateTimeKind.Utc) };
        var lastSeen = new Dictionary<string, DateTimeOffset>
        {
            ["reporting"] = Now.AddSeconds(-10),
            ["silent-seen"] = Now.AddMinutes(-10),
            ["stranger"] = Now.AddSeconds(-5),
            ["old-stranger"] = Now.AddHours(-1),
            ["gone"] = Now.AddSeconds(-1),
            ["gone-quiet"] = Now.AddHours(-2),
        };

        // Act
        var result = LivenessClassifier.Classify(registered, deleted, lastSeen, Now, Window).ToDictionary(e => e.HostId);

        // Assert
        Assert.Equal(["gone", "reporting", "silent-never", "silent-seen", "stranger"], result.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(LivenessState.Reporting, result["reporting"].State);
        Assert.Null(result["reporting"].SilentSince);
        Assert.Equal(LivenessState.Silent, result["silent-seen"].State);
        Assert.Equal(Now.AddMinutes(-10), result["silent-seen"].SilentSince);
        Assert.Equal(LivenessState.Silent, result["silent-never"].State);
        Assert.Null(result["silent-never"].LastSeenAt);
        Assert.Equal(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), result["silent-never"].SilentSince);
        Assert.Equal(LivenessState.Unregistered, result["stranger"].State);
        Assert.Null(result["stranger"].Location);
        Assert.Equal(LivenessState.DeletedButReporting, result["gone"].State);
        Assert.NotNull(result["gone"].DeletedAt);
    }

    [Fact]
    public void Classify_SampleExactlyAtWindowStart_IsSilent()
    {
        // Arrange
        var lastSeen = new Dictionary<string, DateTimeOffset> { ["h"] = Now - Window };

        // Act
        var result = LivenessClassifier.Classify([Host("h")], new Dictionary<string, DateTime>(), lastSeen, Now, Window);

        // Assert
        Assert.Equal(LivenessState.Silent, Assert.Single(result).State);
    }
}
