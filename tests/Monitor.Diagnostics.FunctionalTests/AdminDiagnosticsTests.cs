using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text.Json;
using Xunit;

namespace Monitor.Diagnostics.FunctionalTests;

/// <summary>A type only this test allocates, to be found in the heap histogram.</summary>
internal sealed class SelfObsHeapMarker(int n)
{
    public int N { get; } = n;
}

/// <summary>The admin-port diagnostics of a real Kestrel host in this process.</summary>
public sealed class AdminDiagnosticsTests : IAsyncLifetime
{
    private const string Token = "test-diagnostics-token-3f9a";
    private SelfHost _host = null!;
    private HttpClient _admin = null!;

    public async ValueTask InitializeAsync()
    {
        _host = await SelfHost.StartAsync(Token);
        _admin = new HttpClient { BaseAddress = new Uri(_host.AdminUrl), Timeout = TimeSpan.FromSeconds(120) };
        _admin.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Token);
    }

    public async ValueTask DisposeAsync()
    {
        _admin.Dispose();
        await _host.DisposeAsync();
    }

    [Fact]
    public async Task Gc_ReturnsGenerationsAndCounts()
    {
        GC.Collect();
        var json = await GetJsonAsync("/diagnostics/gc");
        var generations = json.GetProperty("generations").EnumerateArray().ToList();
        Assert.True(generations.Count >= 3);
        Assert.Equal("gen0", generations[0].GetProperty("name").GetString());
        Assert.True(generations[0].GetProperty("collections").GetInt32() >= 1);
        Assert.True(json.GetProperty("heapSizeBytes").GetInt64() > 0);
        Assert.True(json.GetProperty("totalAllocatedBytes").GetInt64() > 0);
        Assert.True(json.TryGetProperty("pauseTimePercentage", out _));
    }

    [Fact]
    public async Task Threads_ListsManagedStacksIncludingAParkedTestThread()
    {
        using var release = new ManualResetEventSlim();
        var thread = new Thread(() => SelfObsParkedThread(release)) { IsBackground = true, Name = "selfobs-parked" };
        thread.Start();
        try
        {
            var json = await GetJsonAsync("/diagnostics/threads?frames=100");
            Assert.True(json.GetProperty("osThreads").GetInt32() > 0);
            Assert.True(json.GetProperty("threadPool").GetProperty("threads").GetInt32() > 0);
            Assert.True(json.TryGetProperty("lockContentionCount", out _));
            var threads = json.GetProperty("threads").EnumerateArray().ToList();
            Assert.True(threads.Count >= 2);
            Assert.Contains(threads, t => t.GetProperty("frames").EnumerateArray().Any(f => f.GetString()!.Contains(nameof(SelfObsParkedThread), StringComparison.Ordinal)));
        }
        finally
        {
            release.Set();
            thread.Join();
        }
    }

    [Fact]
    public async Task Heap_HistogramContainsATypeTheTestAllocated()
    {
        var markers = Enumerable.Range(0, 20_000).Select(i => new SelfObsHeapMarker(i)).ToList();
        var json = await GetJsonAsync("/diagnostics/heap?top=1000");
        GC.KeepAlive(markers);
        var rows = json.GetProperty("rows").EnumerateArray().ToList();
        var row = Assert.Single(rows, r => r.GetProperty("type").GetString() == typeof(SelfObsHeapMarker).FullName);
        Assert.True(row.GetProperty("count").GetInt64() >= markers.Count);
        Assert.True(row.GetProperty("bytes").GetInt64() >= markers.Count * 24L);
        Assert.True(json.GetProperty("objects").GetInt64() > markers.Count);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_host.WorkDirectory));
    }

    [Fact]
    public async Task Cpu_SpeedscopeParses_NettraceHasItsMagic_AndASecondConcurrentTraceGets429()
    {
        const string firstTrace = "/diagnostics/cpu?seconds=4&format=speedscope";
        var first = _admin.GetAsync(firstTrace, TestContext.Current.CancellationToken);
        // The gate is shared by every operation: wait until the trace holds it (the instant GC summary answers 429).
        // A probe can win the gate before the trace's request arrives; the trace then answers 429 and is asked again.
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            using var probe = await _admin.GetAsync("/diagnostics/gc", TestContext.Current.CancellationToken);
            if (probe.StatusCode == HttpStatusCode.TooManyRequests && !first.IsCompleted)
            {
                break;
            }
            if (first.IsCompleted)
            {
                using var early = await first;
                Assert.True(early.StatusCode == HttpStatusCode.TooManyRequests,
                    $"the first trace ended before it was seen holding the gate: {(int)early.StatusCode} {await early.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)}");
                first = _admin.GetAsync(firstTrace, TestContext.Current.CancellationToken);
            }
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(60), "the first trace never took the gate");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
        using (var second = await _admin.GetAsync("/diagnostics/cpu?seconds=1", TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        }

        using var response = await first;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var speedscope = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal("https://www.speedscope.app/file-format-schema.json", speedscope.RootElement.GetProperty("$schema").GetString());
        Assert.True(speedscope.RootElement.GetProperty("shared").GetProperty("frames").GetArrayLength() > 0);
        Assert.True(speedscope.RootElement.GetProperty("profiles").GetArrayLength() > 0);

        using var nettrace = await _admin.GetAsync("/diagnostics/cpu?seconds=1&format=nettrace", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, nettrace.StatusCode);
        var bytes = await nettrace.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken);
        Assert.Equal("Nettrace"u8.ToArray(), bytes[..8]);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_host.WorkDirectory));
    }

    [Fact]
    public async Task Dump_IsStreamedAsAnElfCore_AndDeletedAfterwards()
    {
        using var response = await _admin.GetAsync("/diagnostics/dump?type=mini", HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition?.DispositionType);
        var bytes = await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken);
        Assert.True(bytes.Length > 1024);
        Assert.Equal(new byte[] { 0x7f, (byte)'E', (byte)'L', (byte)'F' }, bytes[..4]);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_host.WorkDirectory));
    }

    [Fact]
    public async Task WithoutOrWithAWrongToken_401()
    {
        using var anonymous = new HttpClient { BaseAddress = new Uri(_host.AdminUrl) };
        foreach (var path in new[] { "/diagnostics/gc", "/diagnostics/threads", "/diagnostics/heap", "/diagnostics/cpu", "/diagnostics/dump" })
        {
            using var response = await anonymous.GetAsync(path, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
        using var wrong = new HttpRequestMessage(HttpMethod.Get, "/diagnostics/gc");
        wrong.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Token + "x");
        using var wrongResponse = await anonymous.SendAsync(wrong, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongResponse.StatusCode);
        Assert.DoesNotContain(Token, await wrongResponse.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OnTheHttpPort_404EvenWithTheToken()
    {
        using var http = new HttpClient { BaseAddress = new Uri(_host.HttpUrl) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Token);
        using var response = await http.GetAsync("/diagnostics/gc", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task FromANonLoopbackAddress_ConnectionRefused()
    {
        var address = NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));
        Assert.True(address is not null, "this machine has no non-loopback IPv4 address to connect from");
        using var client = new TcpClient();
        var error = await Assert.ThrowsAsync<SocketException>(async () => await client.ConnectAsync(address, _host.AdminPort, TestContext.Current.CancellationToken));
        Assert.Equal(SocketError.ConnectionRefused, error.SocketErrorCode);
        // The same port answers on loopback.
        using var ok = await _admin.GetAsync("/diagnostics/gc", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    private async Task<JsonElement> GetJsonAsync(string path)
    {
        using var response = await _admin.GetAsync(path, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"GET {path} answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void SelfObsParkedThread(ManualResetEventSlim release) => release.Wait();
}

/// <summary>A service with no <c>Diagnostics:Token</c> serves no diagnostics at all.</summary>
public sealed class AdminDiagnosticsDisabledTests
{
    [Fact]
    public async Task NoTokenConfigured_404()
    {
        await using var host = await SelfHost.StartAsync(token: null);
        using var admin = new HttpClient { BaseAddress = new Uri(host.AdminUrl) };
        admin.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "anything");
        foreach (var path in new[] { "/diagnostics/gc", "/diagnostics/threads", "/diagnostics/cpu" })
        {
            using var response = await admin.GetAsync(path, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }
    }
}
