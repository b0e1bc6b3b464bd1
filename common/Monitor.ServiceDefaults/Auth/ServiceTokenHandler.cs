using System.Net.Http.Headers;
using Microsoft.Extensions.Options;
using Monitor.ServiceDefaults.Auth;

namespace Monitor.ServiceDefaults.Auth
{
    /// <summary>
    /// Adds <c>Authorization: Bearer {Auth:ServiceToken}</c> to a service's outgoing calls to other Monitor services
    /// (e.g. analyze → manage gRPC) when a service token is configured and the request carries none.
    /// </summary>
    public sealed class ServiceTokenHandler(IOptions<AuthOptions> options) : DelegatingHandler
    {
        /// <inheritdoc />
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            ArgumentNullException.ThrowIfNull(request);
            var token = options.Value.ServiceToken;
            if (!string.IsNullOrWhiteSpace(token) && request.Headers.Authorization is null)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token.Trim());
            }
            return base.SendAsync(request, cancellationToken);
        }
    }
}

namespace Microsoft.Extensions.DependencyInjection
{
    /// <summary>Outgoing credentials for calls between Monitor services.</summary>
    public static class MonitorServiceTokenExtensions
    {
        /// <summary>Sends <c>Auth:ServiceToken</c> on this client's calls (an API token with the least role the calls need).</summary>
        public static IHttpClientBuilder AddMonitorServiceToken(this IHttpClientBuilder builder)
        {
            ArgumentNullException.ThrowIfNull(builder);
            builder.Services.AddTransient<ServiceTokenHandler>();
            return builder.AddHttpMessageHandler<ServiceTokenHandler>();
        }
    }
}
