using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Monitor.Influx.UnitTests;

public sealed class InfluxOptionsTests
{
    private static ValidateOptionsResult Validate(InfluxOptions options)
    {
        var generated = new InfluxOptionsValidator().Validate(Options.DefaultName, options);
        var custom = new InfluxOptionsCustomValidator().Validate(Options.DefaultName, options);
        var failures = (generated.Failures ?? []).Concat(custom.Failures ?? []).ToList();
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    [Fact]
    public void Validate_Defaults_Succeeds()
    {
        // Act
        var result = Validate(new InfluxOptions());

        // Assert
        Assert.True(result.Succeeded, result.FailureMessage);
    }

    [Theory]
    [InlineData("relative/path")]
    [InlineData("ftp://127.0.0.1:8086")]
    [InlineData("http://user:pw@127.0.0.1:8086")]
    [InlineData("http://127.0.0.1:8086/?db=x")]
    public void Validate_BadUrl_FailsNamingUrl(string url)
    {
        // Arrange
        var options = new InfluxOptions { Url = new Uri(url, UriKind.RelativeOrAbsolute) };

        // Act
        var result = Validate(options);

        // Assert
        Assert.True(result.Failed);
        Assert.Contains("Influx:Url", result.FailureMessage, StringComparison.Ordinal);
        Assert.DoesNotContain("pw", result.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("semi;colon")]
    [InlineData("quote\"")]
    [InlineData("ünïcode")]
    public void Validate_BadDatabaseName_Fails(string database)
    {
        // Act
        var result = Validate(new InfluxOptions { Database = database });

        // Assert
        Assert.True(result.Failed);
        Assert.Contains("Database", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_DatabaseNameTooLong_Fails()
    {
        // Act + Assert
        Assert.True(Validate(new InfluxOptions { Database = new string('d', 64) }).Succeeded);
        Assert.True(Validate(new InfluxOptions { Database = new string('d', 65) }).Failed);
    }

    [Fact]
    public void Validate_TokenAndUsername_FailsNamingToken()
    {
        // Arrange
        var options = new InfluxOptions { Token = "t0ken-secret", Username = "u", Password = "p4ss-secret" };

        // Act
        var result = Validate(options);

        // Assert
        Assert.True(result.Failed);
        Assert.Contains("Influx:Token", result.FailureMessage, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_UsernameWithoutPassword_FailsNamingPassword()
    {
        // Act
        var result = Validate(new InfluxOptions { Username = "monitor" });

        // Assert
        Assert.True(result.Failed);
        Assert.Contains("Influx:Password", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_PasswordWithoutUsername_FailsNamingUsername()
    {
        // Act
        var result = Validate(new InfluxOptions { Password = "x" });

        // Assert
        Assert.True(result.Failed);
        Assert.Contains("Influx:Username", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_OutOfRangeNumbers_Fail()
    {
        // Act + Assert
        Assert.True(Validate(new InfluxOptions { Timeout = TimeSpan.Zero }).Failed);
        Assert.True(Validate(new InfluxOptions { Timeout = TimeSpan.FromHours(1) }).Failed);
        Assert.True(Validate(new InfluxOptions { MaxBatchPoints = 0 }).Failed);
    }

    [Fact]
    public void ToString_WithSecrets_DoesNotRevealThem()
    {
        // Arrange
        var basic = new InfluxOptions { Username = "u", Password = "p4ss-secret" };
        var token = new InfluxOptions { Token = "t0ken-secret" };

        // Act
        var text = basic + " " + token;

        // Assert
        Assert.DoesNotContain("secret", text, StringComparison.Ordinal);
        Assert.Contains("Auth = basic", text, StringComparison.Ordinal);
        Assert.Contains("Auth = token", text, StringComparison.Ordinal);
    }

    [Fact]
    public void AddMonitorInflux_ValidConfiguration_BindsOptionsAndConfiguresClients()
    {
        // Arrange
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Influx:Url"] = "http://influx.internal:18086/prefix",
                ["Influx:Database"] = "monitor_test",
                ["Influx:Timeout"] = "00:00:03",
                ["Influx:Gzip"] = "false",
                ["Influx:MaxBatchPoints"] = "1000",
            })
            .Build();
        var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddLogging()
            .AddMonitorInflux();

        // Act
        using var provider = services.BuildServiceProvider(validateScopes: true);
        var options = provider.GetRequiredService<IOptions<InfluxOptions>>().Value;
        var writer = provider.GetRequiredService<InfluxWriter>();
        var queryClient = provider.GetRequiredService<InfluxQueryClient>();
        var writerClient = provider.GetRequiredService<IHttpClientFactory>().CreateClient(nameof(InfluxWriter));

        // Assert
        Assert.Equal(new Uri("http://influx.internal:18086/prefix"), options.Url);
        Assert.Equal("monitor_test", options.Database);
        Assert.False(options.Gzip);
        Assert.Equal(1000, options.MaxBatchPoints);
        Assert.Equal(new Uri("http://influx.internal:18086/prefix/"), writerClient.BaseAddress);
        Assert.Equal(TimeSpan.FromSeconds(3), writerClient.Timeout);
        Assert.Equal(new Uri("http://influx.internal:18086/prefix/write?db=monitor_test&precision=ms"), writer.WriteUri);
        Assert.NotNull(queryClient);
    }

    [Fact]
    public void AddMonitorInflux_TokenAndUsername_ThrowsOptionsValidationException()
    {
        // Arrange
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Influx:Token"] = "t",
                ["Influx:Username"] = "u",
                ["Influx:Password"] = "p",
                ["Influx:Database"] = "bad name",
            })
            .Build();
        using var provider = new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddMonitorInflux()
            .BuildServiceProvider();

        // Act
        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<InfluxOptions>>().Value);

        // Assert
        Assert.Contains(ex.Failures, f => f.Contains("Influx:Token", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.Contains("Database", StringComparison.Ordinal));
    }
}
