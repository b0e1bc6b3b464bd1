using Microsoft.Extensions.Logging.Abstractions;
using Monitor.Prober.Probes;
using Monitor.Prober.Targets;
using Monitor.Protos.V1;
using Xunit;

namespace Monitor.Prober.UnitTests;

/// <summary>Target sets from the manage service become definitions the factory accepts, with the proto's defaults.</summary>
public sealed class ManageTargetSourceTests
{
    [Fact]
    public void Convert_ZeroIntervalAndTimeout_UseDefaults_ConfigJsonBindsCamelCase()
    {
        // Arrange
        var set = new TargetSet
        {
            Revision = 7,
            Targets =
            {
                new ProbeTarget { Spec = new ProbeTargetSpec { Name = "db", Type = "postgres", Enabled = true, ConfigJson = """{"host":"db1","username":"monitor","password":"s3cret","slowQueryThresholdMs":2500}""" } },
                new ProbeTarget { Spec = new ProbeTargetSpec { Name = "web", Type = "http", Enabled = true, IntervalMs = 10_000, TimeoutMs = 2_000, ConfigJson = """{"url":"https://example.test/","acceptedStatusCodes":[200,301],"tlsVerify":false}""" } },
            },
        };

        // Act
        var targets = ManageTargetSource.Convert(set, NullLogger.Instance);

        // Assert
        Assert.Equal(2, targets.Count);
        var db = targets[0];
        Assert.Equal(TargetDefinition.DefaultInterval, db.Interval);
        Assert.Equal(TargetDefinition.DefaultTimeout, db.Timeout);
        Assert.Equal("2500", db.Config["slowQueryThresholdMs"]);
        Assert.Empty(ProbeFactory.Validate(db, ""));
        var web = targets[1];
        Assert.Equal(TimeSpan.FromSeconds(10), web.Interval);
        Assert.Equal(TimeSpan.FromSeconds(2), web.Timeout);
        Assert.Empty(ProbeFactory.Validate(web, ""));
    }

    [Fact]
    public void Convert_ConfigNotAJsonObject_TargetSkipped_OthersKept()
    {
        // Arrange
        var set = new TargetSet
        {
            Targets =
            {
                new ProbeTarget { Spec = new ProbeTargetSpec { Name = "bad", Type = "tcp", Enabled = true, ConfigJson = "{not json" } },
                new ProbeTarget { Spec = new ProbeTargetSpec { Name = "good", Type = "tcp", Enabled = true, ConfigJson = """{"host":"h","port":1}""" } },
            },
        };

        // Act
        var targets = ManageTargetSource.Convert(set, NullLogger.Instance);

        // Assert
        Assert.Equal("good", Assert.Single(targets).Name);
    }
}
