using Monitor.Agent.Options;
using Xunit;

namespace Monitor.Agent.UnitTests;

public sealed class OptionsTests
{
    [Fact]
    public void Validate_Defaults_Succeed()
    {
        // Arrange
        var options = new AgentOptions { ReportAddresses = ["http://127.0.0.1:8443"] };

        // Act
        var generated = new AgentOptionsValidator().Validate(null, options);
        var custom = new AgentOptionsCustomValidator().Validate(null, options);

        // Assert
        Assert.True(generated.Succeeded, generated.FailureMessage);
        Assert.True(custom.Succeeded, custom.FailureMessage);
    }

    [Fact]
    public void Validate_BadValues_NameEveryKey()
    {
        // Arrange
        var options = new AgentOptions
        {
            ReportAddresses = ["ftp://x"],
            Labels = new() { ["host_id"] = "x", ["ok"] = "" },
            Discovery = new DiscoveryOptions { EtcdEndpoints = ["nope"] },
            ReconnectInitialDelay = TimeSpan.FromSeconds(5),
            ReconnectMaxDelay = TimeSpan.FromSeconds(1),
        };

        // Act
        var result = new AgentOptionsCustomValidator().Validate(null, options);

        // Assert
        Assert.False(result.Succeeded);
        Assert.Contains(result.Failures!, f => f.StartsWith("Agent:ReportAddresses:0", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("Agent:Labels:host_id", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("Agent:Labels:ok", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("Agent:Discovery:EtcdEndpoints:0", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("Agent:ReconnectMaxDelay", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_NoAddressAndNoEtcd_Fails()
    {
        // Act
        var result = new AgentOptionsCustomValidator().Validate(null, new AgentOptions());

        // Assert
        Assert.Contains(result.Failures!, f => f.StartsWith("Agent:ReportAddresses", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_IntervalOutOfRange_FailsAndNameKeyPrintsTheConfigurationKey()
    {
        // Arrange
        var options = new AgentOptions { Interval = TimeSpan.FromMilliseconds(1), ReportAddresses = ["http://a"] };

        // Act
        var result = new AgentOptionsValidator().Validate(null, options);

        // Assert
        var failure = Assert.Single(result.Failures!);
        Assert.StartsWith("Agent:Interval: ", AgentCommands.NameKey(failure), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Discovery.Prefix: Agent:Discovery:Prefix must start and end with '/'.", "Agent:Discovery:Prefix must start and end with '/'.")]
    [InlineData("Agent:Labels:x is bad", "Agent:Labels:x is bad")]
    [InlineData("MaxSpoolBytes: too small", "Agent:MaxSpoolBytes: too small")]
    public void NameKey_GeneratedMessages_StartWithTheKey(string failure, string expected)
    {
        // Act + Assert
        Assert.Equal(expected, AgentCommands.NameKey(failure));
    }
}
