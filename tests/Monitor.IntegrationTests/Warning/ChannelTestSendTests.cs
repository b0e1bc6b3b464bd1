using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Xunit;

namespace Monitor.IntegrationTests.Warning;

/// <summary><c>POST /api/v1/warning/channels/{name}/test</c> (the console's "send test"): one real send, its outcome, no secrets.</summary>
public sealed class ChannelTestSendTests
{
    [Fact]
    public async Task TestSend_Webhook_DeliversATestMessageNow_AndAnswersSentWithTheReply()
    {
        // Arrange
        await using var h = await WarningHarness.StartAsync();
        await h.PostAsync("/api/v1/warning/channels", new { name = "ops hook", type = "webhook", url = h.Receiver.BaseUrl + "/hook/tok-secret-123" });

        // Act
        var result = await h.PostAsync("/api/v1/warning/channels/ops%20hook/test", new { }, expectedStatus: 200);

        // Assert
        Assert.Equal("sent", result.GetProperty("status").GetString());
        Assert.Equal("ops hook", result.GetProperty("channel").GetString());
        Assert.Equal(1, result.GetProperty("attempts").GetInt32());
        var request = Assert.Single(h.Receiver.On("/hook/tok-secret-123"));
        var body = JsonDocument.Parse(request.Body).RootElement;
        Assert.Contains("test notification from the Monitor console", body.GetProperty("title").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("tok-secret-123", result.GetRawText(), StringComparison.Ordinal);
        // Nothing was queued: the push log stays empty.
        var log = await h.GetAsync("/api/v1/warning/push-log");
        Assert.Equal(0, log.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task TestSend_FailingReceiver_AnswersFailedOnceWithoutRetries_AndNeverEchoesTheUrl()
    {
        // Arrange
        await using var h = await WarningHarness.StartAsync();
        h.Receiver.Always("/down/tok-secret-456", 500);
        await h.PostAsync("/api/v1/warning/channels", new { name = "down", type = "webhook", url = h.Receiver.BaseUrl + "/down/tok-secret-456" });

        // Act
        var result = await h.PostAsync("/api/v1/warning/channels/down/test", new { }, expectedStatus: 200);

        // Assert
        Assert.Equal("failed", result.GetProperty("status").GetString());
        Assert.Contains("500", result.GetProperty("reply").GetString() + " " + result.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Single(h.Receiver.On("/down/tok-secret-456"));
        Assert.DoesNotContain("tok-secret-456", result.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TestSend_UnknownChannel_Is404Problem()
    {
        await using var h = await WarningHarness.StartAsync();

        using var response = await h.Api.PostAsJsonAsync("/api/v1/warning/channels/nope/test", new { }, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
