using Monitor.ManageService.Hosts;
using Xunit;

namespace Monitor.ManageService.UnitTests;

public sealed class HostValidatorTests
{
    [Theory]
    [InlineData("web-01")]
    [InlineData("db.example.com")]
    [InlineData("主机-1")]
    public void ValidateHostId_ReportableIds_AreAccepted(string hostId) => HostValidator.ValidateHostId(hostId);

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("a/b")]
    [InlineData("tab\there")]
    public void ValidateHostId_BadIds_NameTheField(string? hostId)
    {
        // Act
        var ex = Assert.Throws<ManageException>(() => HostValidator.ValidateHostId(hostId));

        // Assert
        Assert.Equal(ManageErrorKind.Invalid, ex.Kind);
        Assert.Equal("hostId", ex.Field);
    }

    [Fact]
    public void ValidateHostId_TooLong_IsRejected() =>
        Assert.Equal("hostId", Assert.Throws<ManageException>(() => HostValidator.ValidateHostId(new string('h', 129))).Field);

    [Fact]
    public void ValidateLabels_BadKeyOrTooMany_NameLabels()
    {
        Assert.Equal("labels", Assert.Throws<ManageException>(() => HostValidator.ValidateLabels(new Dictionary<string, string> { ["bad key"] = "v" })).Field);
        var many = Enumerable.Range(0, 33).ToDictionary(i => $"k{i}", i => "v");
        Assert.Equal("labels", Assert.Throws<ManageException>(() => HostValidator.ValidateLabels(many)).Field);
        HostValidator.ValidateLabels(new Dictionary<string, string> { ["rack"] = "r7", ["os.family"] = "" });
    }

    [Fact]
    public void ValidateLocation_TooLong_NamesLocation() =>
        Assert.Equal("location", Assert.Throws<ManageException>(() => HostValidator.ValidateLocation(new string('l', 129))).Field);
}
