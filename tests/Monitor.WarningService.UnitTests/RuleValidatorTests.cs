using Microsoft.Extensions.Options;
using Monitor.WarningService.Options;
using Monitor.WarningService.Rules;
using Xunit;

namespace Monitor.WarningService.UnitTests;

public sealed class RuleValidatorTests
{
    private readonly RuleValidator _validator = new(Microsoft.Extensions.Options.Options.Create(new WarningOptions()));

    private static RuleSpec Valid() => new()
    {
        Name = "cpu high",
        Metric = "cpu_rate",
        Bands = new SeverityBands { Info = 50, Warning = 70, Critical = 90 },
        Channels = ["ops"],
    };

    [Fact]
    public void Validate_ValidRule_NoErrors()
    {
        Assert.Empty(_validator.Validate(Valid(), new HashSet<string> { "ops" }));
    }

    [Fact]
    public void Validate_UnknownMetric_NamesMetric()
    {
        var spec = Valid();
        spec.Metric = "cpu_rat";
        Assert.Contains("metric", _validator.Validate(spec, null).Keys);
    }

    [Fact]
    public void Validate_EmptyScope_NamesScopeValue()
    {
        var spec = Valid();
        spec.Scope = new RuleScope { Kind = "location", Value = " " };
        Assert.Contains("scope.value", _validator.Validate(spec, null).Keys);
    }

    [Fact]
    public void Validate_ThresholdsInWrongOrder_NamesTheBand()
    {
        var spec = Valid();
        spec.Bands = new SeverityBands { Info = 50, Warning = 95, Critical = 90 };
        Assert.Contains("bands.critical", _validator.Validate(spec, null).Keys);
    }

    [Fact]
    public void Validate_RecoveryOnTheBreachingSide_NamesRecoveryThreshold()
    {
        var spec = Valid();
        spec.RecoveryThreshold = 60;
        Assert.Contains("recoveryThreshold", _validator.Validate(spec, null).Keys);
    }

    [Fact]
    public void Validate_UnknownChannel_NamesTheIndex()
    {
        Assert.Contains("channels[0]", _validator.Validate(Valid(), new HashSet<string>()).Keys);
    }

    [Fact]
    public void Validate_NoDataWithoutDuration_NamesNoDataAfterSeconds()
    {
        var spec = new RuleSpec { Name = "silent", Kind = RuleKinds.NoData };
        Assert.Contains("noDataAfterSeconds", _validator.Validate(spec, null).Keys);
    }
}
