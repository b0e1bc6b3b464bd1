using Monitor.ManageService.Data;
using Monitor.ManageService.Http;
using Xunit;

namespace Monitor.ManageService.UnitTests;

public sealed class LegacyFormatTests
{
    private static readonly DateTime Utc = new DateTime(2026, 3, 4, 5, 6, 7, DateTimeKind.Utc).AddTicks(1_234_500);

    [Fact]
    public void FormatLocal_Utc_UsesZLikeGo() =>
        Assert.Equal("2026-03-04T05:06:07.12345Z", LegacyApi.FormatLocal(Utc, TimeZoneInfo.Utc));

    [Fact]
    public void FormatLocal_OtherZone_UsesItsOffset()
    {
        // Arrange
        var zone = TimeZoneInfo.CreateCustomTimeZone("plus8", TimeSpan.FromHours(8), "plus8", "plus8");

        // Act + Assert
        Assert.Equal("2026-03-04T13:06:07.12345+08:00", LegacyApi.FormatLocal(Utc, zone));
        Assert.Equal("2026-03-04T13:06:07+08:00", LegacyApi.FormatLocal(new DateTime(2026, 3, 4, 5, 6, 7, DateTimeKind.Utc), zone));
    }

    [Fact]
    public void ToLegacy_KeepsIdAndNullDeletedAt()
    {
        // Arrange
        var host = new HostEntity { Id = 42, HostId = "h", Location = "bj", CreatedAt = Utc, UpdatedAt = Utc };

        // Act
        var legacy = LegacyApi.ToLegacy(host, TimeZoneInfo.Utc);

        // Assert
        Assert.Equal(new LegacyHost(42, "2026-03-04T05:06:07.12345Z", "2026-03-04T05:06:07.12345Z", null, "h", "bj"), legacy);
    }
}
