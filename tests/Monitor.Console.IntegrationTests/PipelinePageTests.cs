using System.Text.RegularExpressions;
using Xunit;
using static Microsoft.Playwright.Assertions;

namespace Monitor.Console.IntegrationTests;

/// <summary>
/// The Pipeline page in headless Chromium against the real services of the fixture (one instance of every kind,
/// samples flowing): the answer of manage's pipeline-health endpoint as a verdict and one card per stage.
/// </summary>
public sealed class PipelinePageTests(ConsoleFixture fx)
{
    [Fact]
    public async Task Pipeline_ShowsEveryStageWithItsLiveInstance_TheVerdict_AndTheAlertingLag()
    {
        var page = await fx.NewPageAsync();
        await page.GotoAsync("/");
        await page.Locator("nav.topnav a", new() { HasTextString = "Pipeline" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/pipeline$"));

        await Expect(page.GetByTestId("pipeline-verdict")).ToHaveAttributeAsync("data-level", new Regex("^(ok|behind|failing)$"));
        var stages = page.GetByTestId("pipeline-stages");
        foreach (var (stage, kind) in new[] { ("ingest", "report"), ("persistence", "persistent"), ("alerting", "warning"), ("query", "analyze"), ("manage", "manage") })
        {
            var card = stages.Locator($"[data-stage='{stage}']");
            await Expect(card).ToContainTextAsync($"1 live {kind} instance");
            await Expect(card).Not.ToHaveAttributeAsync("data-status", "down");
        }
        // Samples flow through the fixture's pipeline: persistence writes points, warning evaluates them and reports its lag.
        await Expect(stages.Locator("[data-stage='persistence'] [data-figure='pointsWritten']")).ToBeVisibleAsync();
        await Expect(stages.Locator("[data-stage='alerting'] [data-figure='evaluationLagSeconds']")).ToContainTextAsync(new Regex("rule-evaluation lag\\s*\\d"));
        var instances = page.GetByTestId("pipeline-instances");
        foreach (var kind in new[] { "report", "persistent", "analyze", "manage", "warning" })
        {
            await Expect(instances.Locator("tr", new() { HasTextString = kind }).First).ToContainTextAsync("ok");
        }
        await fx.ScreenshotAsync(page, "pipeline");

        // The refresh choice lives in the URL like on every page.
        await page.GotoAsync("/pipeline?refresh=10s");
        await Expect(page.GetByTestId("pipeline-verdict")).ToBeVisibleAsync();
        await page.Context.CloseAsync();
    }
}
