using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Xunit;
using static Microsoft.Playwright.Assertions;

namespace Monitor.Console.IntegrationTests;

/// <summary>
/// Each page of the console in headless Chromium against the real services, with data written through the pipeline:
/// the expected hosts, alerts and values appear, actions change the system, and the URL restores the view.
/// </summary>
public sealed partial class ConsolePageTests(ConsoleFixture fx)
{
    [Fact]
    public async Task Overview_CountsHostsByLivenessAndFiringAlertsBySeverity_AsLinksToFilteredLists()
    {
        var page = await fx.NewPageAsync();
        await page.GotoAsync("/");
        // web-1, web-2, hot-1, edit-1 report; stray-1/stray-2 report unregistered (one may get registered by another test).
        await Expect(page.GetByTestId("count-reporting")).ToContainTextAsync(new Regex("^\\s*[4-5]\\s*reporting"));
        await Expect(page.GetByTestId("count-unregistered")).ToContainTextAsync(new Regex("^\\s*[1-2]\\s*unregistered"));
        await Expect(page.GetByTestId("count-critical")).Not.ToContainTextAsync(new Regex("^\\s*0\\s"));
        await Expect(page.GetByTestId("recent-alerts")).ToContainTextAsync("cpu high on hot-1");
        await fx.ScreenshotAsync(page, "overview");

        // The liveness counts lead to the host list filtered by that liveness.
        await page.GetByTestId("count-reporting").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/hosts\\?liveness=reporting$"));
        await Expect(page.GetByTestId("filter-liveness")).ToHaveValueAsync("reporting");
        await Expect(page.GetByTestId("hosts-table").Locator($"tr[data-host='{ConsoleFixture.Web1}']")).ToContainTextAsync("reporting");
        await page.GoBackAsync();
        await page.GetByTestId("count-silent").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/hosts\\?liveness=silent$"));
        await Expect(page.Locator("[data-state=empty]")).ToHaveTextAsync("No host matches.");
        await page.GoBackAsync();

        await page.GetByTestId("count-critical").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/alerts\\?severity=critical$"));
        await Expect(page.GetByTestId("alerts-table")).ToContainTextAsync(ConsoleFixture.Hot);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Hosts_ListsRegisteredHostsWithLiveness_FiltersLiveInTheUrl_AndSurviveReloadAndBack()
    {
        var page = await fx.NewPageAsync();
        await page.GotoAsync("/hosts");
        var table = page.GetByTestId("hosts-table");
        foreach (var host in new[] { ConsoleFixture.Web1, ConsoleFixture.Web2, ConsoleFixture.Hot })
        {
            await Expect(table.Locator($"tr[data-host='{host}']")).ToContainTextAsync("reporting");
        }
        await Expect(table.Locator($"tr[data-host='{ConsoleFixture.Web2}']")).ToContainTextAsync("dc2");
        await Expect(table.Locator($"tr[data-host='{ConsoleFixture.Hot}'] td").Nth(4)).Not.ToHaveTextAsync("0");
        await Expect(table).Not.ToContainTextAsync(ConsoleFixture.Stray2);
        // Last-report age: the sender reports every second, so seconds ago.
        var age = table.Locator($"tr[data-host='{ConsoleFixture.Web1}'] td[data-col=last-report]");
        await Expect(age).ToHaveTextAsync(new Regex("^\\d+ s ago$"));
        await Expect(age).ToHaveAttributeAsync("data-last-seen", new Regex("^\\d{4}-\\d\\d-\\d\\dT"));
        await fx.ScreenshotAsync(page, "hosts");

        await page.GetByTestId("filter-location").SelectOptionAsync("dc2");
        await Expect(page).ToHaveURLAsync(new Regex("/hosts\\?location=dc2$"));
        await Expect(table.Locator("tbody tr[data-host]")).ToHaveCountAsync(2); // web-2, edit-1
        await Expect(table).Not.ToContainTextAsync(ConsoleFixture.Web1);

        await page.Locator("th", new() { HasTextString = "Host" }).First.ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("dir=desc"));
        await Expect(table.Locator("tbody tr").First).ToHaveAttributeAsync("data-host", ConsoleFixture.Web2);

        await page.ReloadAsync();
        await Expect(page.GetByTestId("filter-location")).ToHaveValueAsync("dc2");
        await Expect(table.Locator("tbody tr").First).ToHaveAttributeAsync("data-host", ConsoleFixture.Web2);

        await page.GoBackAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/hosts\\?location=dc2$"));
        await page.GoBackAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/hosts$"));
        await Expect(table.Locator($"tr[data-host='{ConsoleFixture.Web1}']")).ToBeVisibleAsync();
        // Forward restores the filtered view again.
        await page.GoForwardAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/hosts\\?location=dc2$"));
        await Expect(page.GetByTestId("filter-location")).ToHaveValueAsync("dc2");
        await Expect(table.Locator("tbody tr[data-host]")).ToHaveCountAsync(2);

        await page.GotoAsync("/hosts?q=hot");
        await Expect(table.Locator("tbody tr[data-host]")).ToHaveCountAsync(1);

        // Liveness filter: every registered host reports, so "silent" is the empty state and "reporting" lists them.
        await page.GotoAsync("/hosts");
        await page.GetByTestId("filter-liveness").SelectOptionAsync("silent");
        await Expect(page).ToHaveURLAsync(new Regex("/hosts\\?liveness=silent$"));
        await Expect(page.Locator("[data-state=empty]")).ToHaveTextAsync("No host matches.");
        await Expect(table).ToBeHiddenAsync();
        await page.GetByTestId("filter-liveness").SelectOptionAsync("reporting");
        await Expect(table.Locator($"tr[data-host='{ConsoleFixture.Web2}']")).ToContainTextAsync("reporting");
        await Expect(table.Locator("tbody tr[data-host] .live-silent")).ToHaveCountAsync(0);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task HostDetail_DrawsCpuMemoryDiskNetworkCharts_PerCorePerMountPerInterface_AndSilencesTheHost()
    {
        var page = await fx.NewPageAsync();
        await page.GotoAsync($"/hosts/{ConsoleFixture.Web1}?range=30m");
        await Expect(page.GetByTestId("host-liveness")).ToHaveTextAsync("reporting");
        foreach (var (title, series) in new[] { ("CPU busy %", 1), ("CPU per core %", 2), ("Memory used %", 1), ("Disk used % per mount", 2), ("Network receive per interface", 1), ("Network transmit per interface", 1) })
        {
            var chart = page.Locator($"figure[data-chart='{title}']");
            await Expect(chart).ToHaveAttributeAsync("data-series", series.ToString(System.Globalization.CultureInfo.InvariantCulture));
            await Expect(chart).Not.ToHaveAttributeAsync("data-rendered", "0");
            // The backfill covers 20 minutes at 15 s steps: the 30 min raw range shows all of it plus the live samples.
            var points = int.Parse(await chart.GetAttributeAsync("data-points") ?? "0", System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(points >= 70, $"{title}: {points} points");
        }
        await Expect(page.Locator("figure[data-chart='Disk used % per mount']")).ToContainTextAsync("/data");
        await Expect(page.GetByTestId("range")).ToHaveValueAsync("30m");
        await fx.ScreenshotAsync(page, "host-detail");

        await page.GotoAsync($"/hosts/{ConsoleFixture.Hot}");
        await Expect(page.GetByTestId("host-alerts")).ToContainTextAsync("cpu high on hot-1");
        await page.GetByTestId("silence-host").ClickAsync();
        await Expect(page.GetByTestId("silence-result")).ToContainTextAsync("Silence #");
        var silences = await fx.SendAsync(HttpMethod.Get, "/api/v1/warning/silences", null, HttpStatusCode.OK, TestContext.Current.CancellationToken);
        Assert.Contains(silences.EnumerateArray(), s => s.GetProperty("hostId").GetString() == ConsoleFixture.Hot);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Unregistered_ListsReportingUnregisteredHosts_AndRegisteringMovesOneToTheHostsList()
    {
        var page = await fx.NewPageAsync();
        await page.GotoAsync("/unregistered");
        var table = page.GetByTestId("unregistered-table");
        await Expect(table.Locator($"tr[data-host='{ConsoleFixture.Stray1}']")).ToBeVisibleAsync();
        await Expect(table.Locator($"tr[data-host='{ConsoleFixture.Stray2}']")).ToBeVisibleAsync();
        await Expect(table).Not.ToContainTextAsync(ConsoleFixture.Web1);
        await fx.ScreenshotAsync(page, "unregistered");

        await page.GetByTestId("register-" + ConsoleFixture.Stray1).ClickAsync();
        await Expect(page.Locator("form[data-testid=register-form] input[name=hostId]")).ToHaveValueAsync(ConsoleFixture.Stray1);
        await page.FillAsync("form[data-testid=register-form] input[name=location]", "dc9");
        await page.ClickAsync("form[data-testid=register-form] button[type=submit]");

        await Expect(page).ToHaveURLAsync(new Regex("/hosts\\?"));
        var row = page.GetByTestId("hosts-table").Locator($"tr[data-host='{ConsoleFixture.Stray1}']");
        await Expect(row).ToContainTextAsync("dc9");
        await Expect(row).ToContainTextAsync("reporting");

        await page.GotoAsync("/unregistered");
        await Expect(page.GetByTestId("unregistered-table").Locator($"tr[data-host='{ConsoleFixture.Stray2}']")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("unregistered-table")).Not.ToContainTextAsync(ConsoleFixture.Stray1);

        // A duplicate registration shows the server's message.
        await page.FillAsync("form[data-testid=register-form] input[name=hostId]", ConsoleFixture.Web1);
        await page.ClickAsync("form[data-testid=register-form] button[type=submit]");
        await Expect(page.Locator("form[data-testid=register-form] [role=alert]")).ToBeVisibleAsync();
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Rules_EditorShowsServerValidationErrors_ThenACreatedRuleFires_AndTheAlertShowsItsEvidence()
    {
        var page = await fx.NewPageAsync();
        await page.GotoAsync("/rules");
        await Expect(page.GetByTestId("rules-table")).ToContainTextAsync("cpu high on hot-1");
        await fx.ScreenshotAsync(page, "rules");

        await page.GetByTestId("new-rule").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/rules/new$"));
        var form = page.GetByTestId("rule-form");
        await form.Locator("input[name=name]").FillAsync("edit-1 cpu from the console");
        await form.Locator("input[name=metric]").FillAsync("no_such_metric");
        await form.Locator("select[name='scope.kind']").SelectOptionAsync("host");
        await form.Locator("input[name='scope.value']").FillAsync(ConsoleFixture.Editable);
        await form.Locator("input[name='bands.warning']").FillAsync("60");
        await form.Locator("input[name='bands.critical']").FillAsync("85");
        await form.Locator("input[name=consecutiveBreaches]").FillAsync("2");
        await page.GetByTestId("save-rule").ClickAsync();
        await Expect(form.Locator("[data-field=metric]")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("rule-error")).ToContainTextAsync("metric");

        await form.Locator("input[name=metric]").FillAsync("cpu_rate");
        var preview = page.Locator("figure[data-chart=preview]");
        await Expect(preview).ToHaveAttributeAsync("data-series", "1");
        await Expect(preview).ToHaveAttributeAsync("data-thresholds", "60 85");
        Assert.Equal(3600, await SpanSecondsAsync(preview), 3);
        await fx.ScreenshotAsync(page, "rule-editor");
        await page.GetByTestId("save-rule").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/rules/\\d+\\?saved=1$"));
        await Expect(page.GetByTestId("rule-saved")).ToContainTextAsync("version 1");

        await Task.Delay(1500, TestContext.Current.CancellationToken); // the warning service reloads rules every second
        fx.Sender.SetCpu(ConsoleFixture.Editable, 91.25);

        // Auto-refresh (10 s) brings the alert in once the warning service fired it.
        await page.GotoAsync($"/alerts?host={ConsoleFixture.Editable}&refresh=10s");
        var row = page.GetByTestId("alerts-table").Locator("tbody tr").First;
        await Expect(row).ToContainTextAsync("edit-1 cpu from the console", new() { Timeout = 90_000 });
        await Expect(row).ToContainTextAsync("critical");
        await Expect(row).ToContainTextAsync("91.25");
        await fx.ScreenshotAsync(page, "alerts");

        await row.Locator("a").First.ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/alerts/\\d+$"));
        await Expect(page.GetByTestId("alert-facts")).ToContainTextAsync("version 1");
        await Expect(page.GetByTestId("alert-condition")).ToContainTextAsync("cpu_rate > 85");
        await Expect(page.GetByTestId("alert-value")).ToHaveTextAsync("91.25");
        var evidence = page.Locator("figure[data-chart=evidence]");
        await Expect(evidence).ToHaveAttributeAsync("data-series", "1");
        await Expect(evidence).Not.ToHaveAttributeAsync("data-rendered", "0");
        await Expect(evidence).ToHaveAttributeAsync("data-thresholds", new Regex("(^| )85( |$)"));
        await Expect(page.GetByTestId("no-deliveries")).ToBeVisibleAsync();
        var alertUrl = page.Url;

        await page.GetByTestId("silence-alert").ClickAsync();
        await Expect(page.GetByTestId("action-result")).ToContainTextAsync("Silence #");

        // Recovery: the host goes back under the bands; the history view shows the resolved alert, its page the recovery value.
        fx.Sender.SetCpu(ConsoleFixture.Editable, 20.5);
        await page.GotoAsync($"/alerts?view=history&host={ConsoleFixture.Editable}&refresh=10s");
        var resolved = page.GetByTestId("alerts-table").Locator("tbody tr").First;
        await Expect(resolved).ToContainTextAsync("resolved", new() { Timeout = 90_000 });
        await Expect(resolved).ToContainTextAsync("edit-1 cpu from the console");
        await resolved.Locator("a").First.ClickAsync();
        await Expect(page).ToHaveURLAsync(alertUrl);
        await Expect(page.GetByTestId("alert-recovery")).ToContainTextAsync("at 20.5");
        evidence = page.Locator("figure[data-chart=evidence]");
        await Expect(evidence).ToHaveAttributeAsync("data-thresholds", new Regex("(^| )85( |$)"));
        await Expect(evidence).Not.ToHaveAttributeAsync("data-rendered", "0");
        // The chart spans ±30 min around the trigger, with the trigger marked.
        var marker = double.Parse(await evidence.GetAttributeAsync("data-marker") ?? "NaN", System.Globalization.CultureInfo.InvariantCulture);
        var from = double.Parse(await evidence.GetAttributeAsync("data-x-from") ?? "NaN", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(marker - 1800, from, 3);
        Assert.Equal(3600, await SpanSecondsAsync(evidence), 3);
        await fx.ScreenshotAsync(page, "alert-detail");
        await page.Context.CloseAsync();
    }

    // Both ends in one evaluation: the chart may re-render with a newer range between two separate attribute reads
    // (seen once: 3601 = the old start and a start-plus-one-second end).
    private static Task<double> SpanSecondsAsync(ILocator chart) =>
        chart.EvaluateAsync<double>("el => Number(el.dataset.xTo) - Number(el.dataset.xFrom)");

    [Fact]
    public async Task Silences_EditorPreviewsTheFiringAlertsItWouldMatch_AndListsCreatedSilences()
    {
        var ct = TestContext.Current.CancellationToken;
        var now = TimeProvider.System.GetUtcNow();
        await fx.SendAsync(HttpMethod.Post, "/api/v1/warning/silences", new { hostId = ConsoleFixture.Web2, startsAt = now.AddHours(-2), endsAt = now.AddHours(-1), comment = "ended an hour ago" }, HttpStatusCode.Created, ct);
        await fx.SendAsync(HttpMethod.Post, "/api/v1/warning/silences", new { hostId = ConsoleFixture.Web2, startsAt = now.AddHours(1), endsAt = now.AddHours(2), comment = "starts in an hour" }, HttpStatusCode.Created, ct);
        var page = await fx.NewPageAsync();
        await page.GotoAsync($"/silences?ruleId={fx.HotRuleId}");
        var form = page.GetByTestId("silence-form");
        await Expect(form.Locator("input[name=ruleId]")).ToHaveValueAsync(fx.HotRuleId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Expect(page.GetByTestId("silence-preview")).ToContainTextAsync("cpu high on hot-1 on hot-1");
        await form.Locator("input[name=hostId]").FillAsync(ConsoleFixture.Web1);
        await Expect(page.GetByTestId("silence-preview").Locator("li")).ToHaveCountAsync(0);
        // Location is resolved by the warning service from the manage service's host directory: hot-1 is in dc1.
        await form.Locator("input[name=hostId]").FillAsync("");
        await form.Locator("input[name=location]").FillAsync("dc2");
        await Expect(page.GetByTestId("silence-preview")).ToHaveAttributeAsync("data-count", "0");
        await form.Locator("input[name=location]").FillAsync("dc1");
        await Expect(page.GetByTestId("silence-preview")).ToContainTextAsync("cpu high on hot-1 on hot-1");
        await form.Locator("input[name=location]").FillAsync("");
        await form.Locator("input[name=hostId]").FillAsync(ConsoleFixture.Hot);
        await form.Locator("input[name=comment]").FillAsync("maintenance from the console test");
        await form.Locator("button[type=submit]").ClickAsync();
        await Expect(page.GetByTestId("silences-table")).ToContainTextAsync("maintenance from the console test");
        await fx.ScreenshotAsync(page, "silences");

        await Expect(page.GetByTestId("silences-table")).Not.ToContainTextAsync("starts in an hour");
        await Expect(page.GetByTestId("silences-table")).Not.ToContainTextAsync("ended an hour ago");

        await page.GetByTestId("tab-pending").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("status=pending"));
        await Expect(page.GetByTestId("silences-table")).ToContainTextAsync("starts in an hour");
        await Expect(page.GetByTestId("silences-table")).Not.ToContainTextAsync("maintenance from the console test");
        await page.GetByTestId("tab-expired").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("status=expired"));
        await Expect(page.GetByTestId("silences-table")).ToContainTextAsync("ended an hour ago");
        await Expect(page.GetByTestId("silences-table")).Not.ToContainTextAsync("starts in an hour");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Services_ListsEveryRegisteredInstanceWithItsEndpoints()
    {
        var page = await fx.NewPageAsync();
        await page.GotoAsync("/services");
        var table = page.GetByTestId("services-table");
        foreach (var kind in new[] { "report", "persistent", "analyze", "manage", "warning" })
        {
            await Expect(table.Locator($"tr[data-kind='{kind}']").First).ToContainTextAsync("alive");
        }
        await Expect(table.Locator("tr[data-kind='analyze']").First).ToContainTextAsync("HTTP http://127.0.0.1:");
        var warning = table.Locator("tr[data-kind='warning']").First;
        await Expect(warning.Locator("td[data-col=version]")).ToHaveTextAsync(new Regex("^\\d+\\.\\d+\\.\\d+"));
        await Expect(warning.Locator("td[data-col=alive-since]")).ToHaveTextAsync(new Regex("^\\d+ (s|min) ago$"));
        await Expect(warning.Locator("td[data-col=alive-since]")).ToHaveAttributeAsync("data-started", new Regex("^\\d{4}-\\d\\d-\\d\\dT"));
        await fx.ScreenshotAsync(page, "services");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task HostDetail_AbsoluteRangeInTheUrl_ShowsOnlyThatWindow()
    {
        var page = await fx.NewPageAsync();
        var now = DateTimeOffset.FromUnixTimeMilliseconds(fx.Sender.BackfillEndMs);
        string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        // Ten to five minutes before the live samples began: only the backfill's 15 s samples lie there (20 per series).
        await page.GotoAsync($"/hosts/{ConsoleFixture.Web2}?from={Iso(now.AddMinutes(-10))}&to={Iso(now.AddMinutes(-5))}");
        await Expect(page.GetByTestId("range")).ToHaveValueAsync("abs");
        var chart = page.Locator("figure[data-chart='CPU busy %']");
        await Expect(chart).Not.ToHaveAttributeAsync("data-rendered", "0");
        var points = int.Parse(await chart.GetAttributeAsync("data-points") ?? "0", System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(points, 19, 21);
        await page.GetByTestId("range").SelectOptionAsync("15m");
        await Expect(page).ToHaveURLAsync(new Regex($"/hosts/{ConsoleFixture.Web2}\\?range=15m$"));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Theme_FollowsTheSystem_AndTheToggleIsRemembered()
    {
        var page = await fx.NewPageAsync(colorScheme: "dark");
        await page.GotoAsync("/");
        await Expect(page.Locator("html")).ToHaveAttributeAsync("data-theme", "dark");
        await page.GetByTestId("theme-toggle").ClickAsync();
        await Expect(page.Locator("html")).ToHaveAttributeAsync("data-theme", "light");
        await page.ReloadAsync();
        await Expect(page.Locator("html")).ToHaveAttributeAsync("data-theme", "light");
        await page.GetByTestId("theme-toggle").ClickAsync();
        await page.GotoAsync("/hosts");
        await Expect(page.GetByTestId("hosts-table")).ToBeVisibleAsync();
        await fx.ScreenshotAsync(page, "hosts-dark");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Pages_ShowALoadingStateWhileWaiting_ThenTheEmptyStateForAnEmptyList()
    {
        var page = await fx.NewPageAsync();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await page.RouteAsync(new Regex("/api/v1/warning/alerts\\?"), async r =>
        {
            await gate.Task;
            await r.ContinueAsync();
        });
        await page.GotoAsync("/alerts?view=history&host=no-such-host");
        await Expect(page.Locator("[data-state=loading]")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("alerts-table")).ToBeHiddenAsync();
        gate.SetResult();
        await Expect(page.Locator("[data-state=empty]")).ToHaveTextAsync("No alert matches.");
        await Expect(page.Locator("[data-state=loading]")).ToHaveCountAsync(0);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task ApiErrors_ShowTheServersMessage_AndKeepTheLastData()
    {
        var page = await fx.NewPageAsync();
        await page.GotoAsync("/hosts?refresh=10s");
        await Expect(page.GetByTestId("hosts-table").Locator($"tr[data-host='{ConsoleFixture.Web1}']")).ToBeVisibleAsync();
        await page.RouteAsync("**/api/v1/manage/liveness", r => r.FulfillAsync(new RouteFulfillOptions
        {
            Status = 503,
            ContentType = "application/problem+json",
            Body = "{\"title\":\"InfluxDB is unreachable\",\"status\":503}",
        }));
        await page.GetByTestId("refresh-now").ClickAsync();
        await Expect(page.Locator("[data-state=error]")).ToContainTextAsync("InfluxDB is unreachable");
        await Expect(page.GetByTestId("hosts-table").Locator($"tr[data-host='{ConsoleFixture.Web1}']")).ToBeVisibleAsync();
        await page.Context.CloseAsync();
    }
}
