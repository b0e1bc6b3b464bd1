using System.Collections.Concurrent;
using System.Net;
using Monitor.TestUtilities;

namespace Monitor.Console.IntegrationTests;

/// <summary>A local HTTP endpoint for webhook channels: records every request body and answers 200.</summary>
public sealed class TestReceiver : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;

    public TestReceiver()
    {
        var port = Ports.Free();
        BaseUrl = $"http://127.0.0.1:{port}";
        _listener.Prefixes.Add(BaseUrl + "/");
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public string BaseUrl { get; }
    public ConcurrentQueue<(string Path, string Body)> Requests { get; } = new();

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            using (var reader = new StreamReader(context.Request.InputStream))
            {
                Requests.Enqueue((context.Request.Url!.AbsolutePath, await reader.ReadToEndAsync()));
            }
            context.Response.StatusCode = 200;
            context.Response.Close();
        }
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        _loop.Wait(TimeSpan.FromSeconds(5));
    }
}
