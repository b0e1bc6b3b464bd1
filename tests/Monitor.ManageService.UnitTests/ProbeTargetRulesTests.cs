using System.Text.Json.Nodes;
using Monitor.ManageService.Hosts;
using Monitor.ManageService.Probes;
using Xunit;

namespace Monitor.ManageService.UnitTests;

public sealed class ProbeTargetRulesTests
{
    [Theory]
    [InlineData("http", """{"url":"https://example.org/health","method":"POST","headers":{"Accept":"text/plain"},"acceptedStatusCodes":[200],"followRedirects":false,"tlsVerify":false}""")]
    [InlineData("tcp", """{"host":"db1.example.org","port":5432,"send":"PING\r\n","expect":"PONG"}""")]
    [InlineData("icmp", """{"host":"127.0.0.1","count":5}""")]
    [InlineData("postgres", """{"host":"127.0.0.1","port":5433,"username":"monitor","password":"x","slowQueryThresholdMs":1000}""")]
    [InlineData("redis", """{"host":"127.0.0.1","cluster":true}""")]
    [InlineData("kafka", """{"bootstrapServers":"127.0.0.1:9092,127.0.0.1:9093","groupId":"g","topics":["a.b"]}""")]
    public void Validate_GoodConfigs_Pass(string type, string json)
    {
        var config = ProbeConfigSchema.Validate(type, JsonNode.Parse(json));
        Assert.Equal(JsonNode.Parse(json)!.ToJsonString(), config.ToJsonString());
    }

    [Theory]
    [InlineData("http", """{"url":"https://x/","maxRedirects":1.5}""", "config.maxRedirects")]
    [InlineData("http", """{"url":"https://x/","headers":{"Bad Header":"v"}}""", "config.headers")]
    [InlineData("http", """{"url":"https://x/","headers":{"X-A":"line\nbreak"}}""", "config.headers")]
    [InlineData("http", """{"url":"https://x/","method":"BREW"}""", "config.method")]
    [InlineData("tcp", """{"host":"-bad-","port":1}""", "config.host")]
    [InlineData("kafka", """{"bootstrapServers":"h:1","groupId":"g","topics":["bad topic"]}""", "config.topics")]
    [InlineData("nope", """{}""", "type")]
    public void Validate_BadConfigs_NameTheField(string type, string json, string field)
    {
        var ex = Assert.Throws<ManageException>(() => ProbeConfigSchema.Validate(type, JsonNode.Parse(json)));
        Assert.Equal(ManageErrorKind.Invalid, ex.Kind);
        Assert.Equal(field, ex.Field);
    }

    [Fact]
    public void SecretSlots_FindPasswordsAndSensitiveHeadersOnly()
    {
        var http = ProbeConfigSchema.Validate("http", JsonNode.Parse("""{"url":"https://x/","headers":{"Authorization":"Bearer a","X-Api-Key":"k","X-Auth-Token":"t","Accept":"*/*"}}"""));
        var paths = ProbeConfigSchema.SecretSlots("http", http).Select(s => s.Path).Order().ToList();
        Assert.Equal(["config.headers.Authorization", "config.headers.X-Api-Key", "config.headers.X-Auth-Token"], paths);

        var kafka = ProbeConfigSchema.Validate("kafka", JsonNode.Parse("""{"bootstrapServers":"h:1","groupId":"g","saslUsername":"u","saslPassword":"p"}"""));
        Assert.Equal(["config.saslPassword"], ProbeConfigSchema.SecretSlots("kafka", kafka).Select(s => s.Path));
    }

    [Fact]
    public void Choose_IsDeterministicAndOnlyMovesTheLeaversTargets()
    {
        string[] hosts = ["a", "b", "c", "d"];
        var targets = Enumerable.Range(0, 200).Select(i => $"t{i}").ToList();
        var before = targets.ToDictionary(t => t, t => ProbeAssignmentRules.Choose(t, hosts));
        Assert.Equal(before, targets.ToDictionary(t => t, t => ProbeAssignmentRules.Choose(t, hosts.Reverse())));
        Assert.All(hosts, h => Assert.Contains(h, before.Values)); // spread over every prober

        var after = targets.ToDictionary(t => t, t => ProbeAssignmentRules.Choose(t, ["a", "b", "d"]));
        foreach (var t in targets)
        {
            if (before[t] != "c")
            {
                Assert.Equal(before[t], after[t]);
            }
            else
            {
                Assert.NotEqual("c", after[t]);
            }
        }
        Assert.Null(ProbeAssignmentRules.Choose("t", []));
    }
}
