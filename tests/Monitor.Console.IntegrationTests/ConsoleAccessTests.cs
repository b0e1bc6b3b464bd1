using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Xunit;
using static Microsoft.Playwright.Assertions;

namespace Monitor.Console.IntegrationTests;

/// <summary>The login page and the channel editor's "send test", in headless Chromium.</summary>
public sealed class ConsoleAccessTests(ConsoleFixture fx)
{
    [Fact]
    public async Task AnyUnauthorizedAnswer_ShowsTheLoginPage_AndSigningInReturnsToTheSameUrl()
    {
        var page = await fx.NewPageAsync(signIn: false);
        var (user, password) = (ConsoleFixture.AdminName, fx.AdminPassword);
        if (!fx.AuthActive)
        {
            // This build's manage service has no login API (/auth/me is 404): play the contract's answers in the browser.
            var signedIn = false;
            await page.Context.RouteAsync("**/api/v1/**", async route =>
            {
                var path = new Uri(route.Request.Url).AbsolutePath;
                if (path == "/api/v1/manage/auth/login")
                {
                    var body = JsonDocument.Parse(route.Request.PostData ?? "{}").RootElement;
                    signedIn = body.GetProperty("username").GetString() == user && body.GetProperty("password").GetString() == password;
                    await route.FulfillAsync(signedIn ? new() { Status = 204 } : new() { Status = 401, ContentType = "application/problem+json", Body = "{\"title\":\"Unauthorized\"}" });
                }
                else if (!signedIn)
                {
                    await route.FulfillAsync(new() { Status = 401, ContentType = "application/problem+json", Body = "{\"title\":\"Unauthorized\"}" });
                }
                else if (path == "/api/v1/manage/auth/me")
                {
                    await route.FulfillAsync(new() { Status = 200, ContentType = "application/json", Body = $"{{\"name\":\"{user}\",\"role\":\"admin\"}}" });
                }
                else
                {
                    await route.ContinueAsync();
                }
            });
        }

        await page.GotoAsync("/hosts?liveness=reporting&sort=location");
        await Expect(page).ToHaveURLAsync(new Regex("/login\\?next=%2Fhosts%3Fliveness%3Dreporting%26sort%3Dlocation$"));
        await Expect(page.GetByTestId("login-form")).ToBeVisibleAsync();
        await fx.ScreenshotAsync(page, "login");

        await page.FillAsync("input[name=username]", user);
        await page.FillAsync("input[name=password]", "wrong-" + password);
        await page.ClickAsync("button[type=submit]");
        await Expect(page.GetByTestId("login-error")).ToContainTextAsync("Wrong user name or password");

        await page.FillAsync("input[name=password]", password);
        await page.ClickAsync("button[type=submit]");
        await Expect(page).ToHaveURLAsync(new Regex("/hosts\\?liveness=reporting&sort=location$"));
        await Expect(page.GetByTestId("hosts-table").Locator($"tr[data-host='{ConsoleFixture.Web1}']")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("user")).ToContainTextAsync(user);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Channels_CreatedInTheEditor_SendTestShowsTheResult_AndTheLastDeliveryStatus()
    {
        using var receiver = new TestReceiver();
        var page = await fx.NewPageAsync();
        await page.GotoAsync("/channels");
        var form = page.GetByTestId("channel-form");
        await form.Locator("input[name=name]").FillAsync("console-hook");
        await form.Locator("select[name=type]").SelectOptionAsync("webhook");
        await form.Locator("input[name=url]").FillAsync(receiver.BaseUrl + "/hook/token-abc");
        await form.Locator("button[type=submit]").ClickAsync();
        var row = page.GetByTestId("channels-table").Locator("tr[data-channel='console-hook']");
        await Expect(row).ToContainTextAsync("URL set");
        await Expect(row).ToContainTextAsync("never");

        await page.GetByTestId("test-console-hook").ClickAsync();
        await Expect(page.GetByTestId("test-result-console-hook")).ToContainTextAsync("sent — 200");
        Assert.Contains(receiver.Requests, r => r.Path == "/hook/token-abc" && r.Body.Contains("test notification from the Monitor console", StringComparison.Ordinal));
        Assert.DoesNotContain("token-abc", await page.ContentAsync(), StringComparison.Ordinal);
        await fx.ScreenshotAsync(page, "channels");

        // The channel's last delivery comes from the push log once an alert was sent through it.
        var ct = TestContext.Current.CancellationToken;
        await fx.SendAsync(HttpMethod.Post, "/api/v1/warning/rules", new
        {
            name = "channel delivery on web-2",
            metric = "cpu_rate",
            scope = new { kind = "host", value = ConsoleFixture.Web2 },
            comparator = "gt",
            bands = new { critical = 1.0 },
            consecutiveBreaches = 1,
            channels = new[] { "console-hook" },
        }, HttpStatusCode.Created, ct);
        await page.GotoAsync("/channels?refresh=10s");
        await Expect(page.GetByTestId("channels-table").Locator("tr[data-channel='console-hook']")).ToContainTextAsync("sent", new() { Timeout = 60_000 });

        // ... and the alert's page shows the delivery per channel.
        await page.GotoAsync($"/alerts?host={ConsoleFixture.Web2}");
        await page.GetByTestId("alerts-table").Locator("tr", new() { HasTextString = "channel delivery on web-2" }).Locator("a").First.ClickAsync();
        var delivery = page.GetByTestId("deliveries").Locator("tbody tr").First;
        await Expect(delivery).ToContainTextAsync("console-hook");
        await Expect(delivery).ToContainTextAsync("sent");
        await Expect(delivery).ToContainTextAsync("200");
        await page.Context.CloseAsync();
    }
}
