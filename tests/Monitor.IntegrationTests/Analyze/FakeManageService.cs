using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Monitor.Protos.V1;
using Monitor.TestUtilities;

namespace Monitor.IntegrationTests.Analyze;

/// <summary>
/// A tiny in-process stand-in for the manage service: Kestrel (h2c) on a free port serving
/// <c>ManageService.ListHosts/GetHost</c> from a fixed host list, paging with small pages so callers must follow tokens.
/// </summary>
public sealed class FakeManageService : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FakeManageService(WebApplication app, string address)
    {
        _app = app;
        Address = address;
    }

    public string Address { get; }

    public int ListCalls => Impl.Calls;

    private FakeManageImpl Impl => _app.Services.GetRequiredService<FakeManageImpl>();

    public static async Task<FakeManageService> StartAsync(IReadOnlyList<Host> hosts, CancellationToken cancellationToken)
    {
        var port = Ports.Free();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.ListenLocalhost(port, o => o.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(new FakeManageImpl(hosts));
        var app = builder.Build();
        app.MapGrpcService<FakeManageImpl>();
        await app.StartAsync(cancellationToken);
        return new FakeManageService(app, $"http://localhost:{port}");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private sealed class FakeManageImpl(IReadOnlyList<Host> hosts) : ManageService.ManageServiceBase
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public override Task<ListHostsResponse> ListHosts(ListHostsRequest request, ServerCallContext context)
        {
            Interlocked.Increment(ref _calls);
            var matching = hosts
                .Where(h => request.Location.Length == 0 || h.Location == request.Location)
                .OrderBy(h => h.HostId, StringComparer.Ordinal)
                .ToList();
            // Small pages (at most 2) so the client has to follow next_page_token.
            var size = Math.Min(request.PageSize <= 0 ? 500 : request.PageSize, 2);
            var offset = request.PageToken.Length == 0 ? 0 : int.Parse(request.PageToken, System.Globalization.CultureInfo.InvariantCulture);
            var response = new ListHostsResponse();
            response.Hosts.AddRange(matching.Skip(offset).Take(size));
            if (offset + size < matching.Count)
            {
                response.NextPageToken = (offset + size).ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
            return Task.FromResult(response);
        }

        public override Task<GetHostResponse> GetHost(GetHostRequest request, ServerCallContext context)
        {
            var host = hosts.FirstOrDefault(h => h.HostId == request.HostId)
                ?? throw new RpcException(new Status(StatusCode.NotFound, $"host {request.HostId} not found"));
            return Task.FromResult(new GetHostResponse { Host = host });
        }
    }
}
