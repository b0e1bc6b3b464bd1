using Monitor.Prober.Probes;
using Monitor.Prober.Targets;
using Xunit;

namespace Monitor.Prober.UnitTests;

/// <summary>Per-type validation of target definitions: valid ones pass, every bad field is named, no value is echoed.</summary>
public sealed class ProbeConfigTests
{
    private static TargetDefinition Target(string type, string json, string name = "t1", double intervalS = 30, double timeoutS = 5) =>
        new(name, type, TargetDefinition.ConfigFromJson(json), TimeSpan.FromSeconds(intervalS), TimeSpan.FromSeconds(timeoutS), true);

    public static TheoryData<string, string> ValidConfigs => new()
    {
        { "http", """{"url":"https://example.test/health","method":"POST","headers":{"Authorization":"Bearer s3cret"},"body":"{}","acceptedStatusCodes":[200,204],"bodyMustMatch":"ok","bodyMustNotMatch":"error","followRedirects":false,"maxRedirects":3,"tlsVerify":false}""" },
        { "tcp", """{"host":"127.0.0.1","port":22,"send":"PING\r\n","expect":"PONG"}""" },
        { "icmp", """{"host":"127.0.0.1","count":5}""" },
        { "postgres", """{"host":"db","port":5432,"database":"app","username":"monitor","password":"pw","connectionsWarnPercent":90,"slowQueryThresholdMs":2000}""" },
        { "redis", """{"host":"cache","port":6380,"password":"pw","cluster":true}""" },
        { "kafka", """{"bootstrapServers":"k1:9092,k2:9092","groupId":"g","topics":["a","b"],"saslUsername":"u","saslPassword":"p"}""" },
        { "kafka", """{"bootstrapServers":"k1:9092","groupId":"g"}""" },
    };

    [Theory]
    [MemberData(nameof(ValidConfigs))]
    public void Validate_ValidConfig_NoErrors(string type, string json)
    {
        // Act
        var errors = ProbeFactory.Validate(Target(type, json), "");

        // Assert
        Assert.Empty(errors);
    }

    public static TheoryData<string, string, string> InvalidConfigs => new()
    {
        { "http", """{"method":"GET"}""", "Config:url" },
        { "http", """{"url":"ftp://x"}""", "Config:url" },
        { "http", """{"url":"http://x","acceptedStatusCodes":[700]}""", "Config:acceptedStatusCodes" },
        { "http", """{"url":"http://x","bodyMustMatch":"(unclosed"}""", "Config:bodyMustMatch" },
        { "http", """{"url":"http://x","maxRedirects":99}""", "Config:maxRedirects" },
        { "http", """{"url":"http://x","headers":{"bad name":"v"}}""", "Config:headers" },
        { "tcp", """{"host":"h"}""", "Config:port" },
        { "tcp", """{"port":80}""", "Config:host" },
        { "icmp", """{"host":"h","count":0}""", "Config:count" },
        { "postgres", """{"host":"h"}""", "Config:username" },
        { "postgres", """{"host":"h","username":"u","connectionsWarnPercent":0}""", "Config:connectionsWarnPercent" },
        { "postgres", """{"host":"h","username":"u","slowQueryThresholdMs":-1}""", "Config:slowQueryThresholdMs" },
        { "redis", """{"port":6379}""", "Config:host" },
        { "redis", """{"host":"h","port":0}""", "Config:port" },
        { "kafka", """{"groupId":"g"}""", "Config:bootstrapServers" },
        { "kafka", """{"bootstrapServers":"k:9092"}""", "Config:groupId" },
    };

    [Theory]
    [MemberData(nameof(InvalidConfigs))]
    public void Validate_InvalidField_ErrorNamesTheField(string type, string json, string field)
    {
        // Act
        var errors = ProbeFactory.Validate(Target(type, json), "Probes:Targets:0:");

        // Assert
        Assert.Contains(errors, e => e.StartsWith("Probes:Targets:0:" + field, StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_UnknownType_NamesTheTypes()
    {
        // Act
        var errors = ProbeFactory.Validate(Target("cassandra", "{}"), "");

        // Assert
        var error = Assert.Single(errors);
        Assert.Contains("Type 'cassandra' is unknown", error, StringComparison.Ordinal);
        Assert.Contains("kafka", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_UnknownField_Rejected()
    {
        // Act
        var errors = ProbeFactory.Validate(Target("tcp", """{"host":"h","port":1,"hots":"x"}"""), "");

        // Assert
        Assert.Contains(errors, e => e.Contains("'hots'", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_UnconvertibleValue_NamesKeyWithoutTheValue()
    {
        // Act
        var errors = ProbeFactory.Validate(Target("redis", """{"host":"h","port":"hunter2"}"""), "");

        // Assert
        var error = Assert.Single(errors);
        Assert.Contains("Port", error, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", 30, 5, "Name")]
    [InlineData("-starts-with-dash", 30, 5, "Name")]
    [InlineData("has space", 30, 5, "Name")]
    [InlineData("ok", 0.5, 0.2, "Interval")]
    [InlineData("ok", 30, 0.01, "Timeout")]
    [InlineData("ok", 5, 5, "Timeout must be shorter than Interval")]
    public void Validate_BadNameOrTiming_Named(string name, double intervalS, double timeoutS, string expected)
    {
        // Act
        var errors = ProbeFactory.Validate(Target("icmp", """{"host":"h"}""", name, intervalS, timeoutS), "");

        // Assert
        Assert.Contains(errors, e => e.StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Fingerprint_ChangesWithAnySetting_NotWithKeyCase()
    {
        // Arrange
        var a = Target("tcp", """{"host":"h","port":1}""");
        var sameOtherCase = Target("tcp", """{"Host":"h","PORT":1}""");
        var edited = Target("tcp", """{"host":"h","port":2}""");
        var paused = a with { Enabled = false };

        // Assert
        Assert.Equal(a.Fingerprint, sameOtherCase.Fingerprint);
        Assert.NotEqual(a.Fingerprint, edited.Fingerprint);
        Assert.NotEqual(a.Fingerprint, paused.Fingerprint);
        Assert.NotEqual(a.Fingerprint, (a with { Interval = TimeSpan.FromSeconds(60) }).Fingerprint);
    }
}
