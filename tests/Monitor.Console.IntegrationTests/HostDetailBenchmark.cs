using System.Globalization;
using Microsoft.Playwright;
using Monitor.TestUtilities;
using Xunit;
using static Microsoft.Playwright.Assertions;

namespace Monitor.Console.IntegrationTests;

/// <summary>
/// The console benchmark (docs/benchmarks.md, section Console): host detail with one chart of 1,000 series × 3,600
/// points in headless Chromium. The analyze answer is synthetic, made in the page (fetch is wrapped for the
/// benchmark host only) in the analyze service's columnar chart shape, so the figure covers the console's own work: JSON parse of the ~20 MB answer
/// and uPlot's draw. Asserts only that everything was drawn; the times are printed and written to
/// .state/console-benchmark.txt (no timing threshold in a test).
/// </summary>
public sealed class HostDetailBenchmark(ConsoleFixture fx)
{
    public const int Series = 1000;
    public const int Points = 3600;

    [Fact]
    public async Task HostDetail_ThousandSeriesOfThreeThousandSixHundredPoints_AreDrawn()
    {
        var page = await fx.NewPageAsync();
        await page.AddInitScriptAsync($$"""
            (() => {
              const SERIES = {{Series}}, POINTS = {{Points}}, HOST = 'bench-1';
              const real = window.fetch.bind(window);
              const json = (body) => new Response(body, { status: 200, headers: { 'Content-Type': 'application/json' } });
              window.__bench = {};
              window.fetch = async (url, init) => {
                const u = String(url);
                if (u.startsWith(`/api/v1/analyze/hosts/${HOST}/metrics/cpu_core_percent/chart`)) {
                  // The analyze service's columnar chart answer (GET .../chart): one time axis, one value column per core.
                  const end = Math.floor(Date.now() / 1000) * 1000, start = end - POINTS * 1000;
                  const times = Array.from({ length: POINTS }, (_, i) => start + i * 1000);
                  const series = [];
                  for (let s = 0; s < SERIES; s++) {
                    const values = new Array(POINTS);
                    for (let i = 0; i < POINTS; i++) values[i] = Math.round((50 + 40 * Math.sin(i / 300 + s)) * 100) / 100;
                    series.push({ hostId: HOST, labels: { cpu: 'cpu' + s }, values });
                  }
                  const body = JSON.stringify({ metric: 'cpu_core_percent', resolution: 'raw', step: null, start: new Date(start).toISOString(), end: new Date(end).toISOString(), truncated: false, timesUnixMs: times, series });
                  window.__bench.bytes = body.length;
                  window.__bench.answeredAt = performance.now();
                  return json(body);
                }
                if (u.startsWith(`/api/v1/analyze/hosts/${HOST}/metrics`)) return json(JSON.stringify({ hostId: HOST, metrics: ['cpu_core_percent'] }));
                return real(url, init);
              };
            })();
            """);
        await page.GotoAsync("/hosts/bench-1?range=1h");
        var chart = page.Locator("figure[data-chart='CPU per core %']");
        await Expect(chart).ToHaveAttributeAsync("data-series", Series.ToString(CultureInfo.InvariantCulture), new() { Timeout = 120_000 });
        await Expect(chart).ToHaveAttributeAsync("data-points", Points.ToString(CultureInfo.InvariantCulture));
        await Expect(chart).Not.ToHaveAttributeAsync("data-rendered", "0", new() { Timeout = 120_000 });
        var t = await page.EvaluateAsync<double[]>("""
            () => {
              const first = (name) => {
                const m = performance.getEntriesByName(name).filter((e) => !e.detail || e.detail.series === undefined || e.detail.series === %SERIES%);
                return m.length ? m[0].startTime : NaN;
              };
              return [window.__bench.answeredAt, first('monitor:large-answer-parsed'), first('monitor:chart-build'), first('monitor:chart-drawn'), window.__bench.bytes];
            }
            """.Replace("%SERIES%", Series.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal));
        var (answeredAt, parsedAt, buildAt, drawnBy, bytes) = (t[0], t[1], t[2], t[3], t[4]);
        var line = string.Create(CultureInfo.InvariantCulture,
            $"console benchmark: host detail, {Series} series x {Points} points ({bytes / 1e6:0} MB JSON): answer -> drawn {drawnBy - answeredAt:0} ms " +
            $"(read + JSON.parse {parsedAt - answeredAt:0} ms, columns -> chart data {buildAt - parsedAt:0} ms, uPlot build + first draw {drawnBy - buildAt:0} ms) (Chromium {fx.Browser.Version})");
        TestContext.Current.SendDiagnosticMessage(line);
        TestContext.Current.TestOutputHelper?.WriteLine(line);
        Directory.CreateDirectory(Path.Combine(Repo.Root, ".state"));
        await File.AppendAllTextAsync(Path.Combine(Repo.Root, ".state", "console-benchmark.txt"), $"{TimeProvider.System.GetUtcNow():O} {line}\n", TestContext.Current.CancellationToken);
        Assert.True(drawnBy > answeredAt, "the chart was drawn after the data arrived");
        await page.Context.CloseAsync();
    }
}
