using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.AspNetCore.Http;

namespace Monitor.ServiceDefaults.Auth;

/// <summary>
/// gRPC side of the authentication seam: the policy comes from <see cref="RequireRoleAttribute"/>
/// on the service class or method (gRPC puts both into the endpoint metadata).
/// </summary>
public sealed class MonitorAuthInterceptor(MonitorAuthorizer authorizer) : Interceptor
{
    /// <inheritdoc />
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        await AuthorizeAsync(context).ConfigureAwait(false);
        return await continuation(request, context).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        await AuthorizeAsync(context).ConfigureAwait(false);
        return await continuation(requestStream, context).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        await AuthorizeAsync(context).ConfigureAwait(false);
        await continuation(request, responseStream, context).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        await AuthorizeAsync(context).ConfigureAwait(false);
        await continuation(requestStream, responseStream, context).ConfigureAwait(false);
    }

    private async Task AuthorizeAsync(ServerCallContext context)
    {
        var http = context.GetHttpContext();
        var requirement = AuthRequirement.From(http.GetEndpoint()?.Metadata, http.Request.Path.Value ?? "", grpc: true);
        var credential = context.RequestHeaders.GetValue("authorization") ?? MonitorCredentials.FromRequest(http.Request);
        var (decision, principal) = await authorizer.AuthorizeAsync(credential, requirement, context.CancellationToken).ConfigureAwait(false);
        switch (decision)
        {
            case AuthDecision.Allowed:
                if (principal is not null)
                {
                    principal.AttachTo(http);
                }
                return;
            case AuthDecision.Unauthenticated:
                throw new RpcException(new Status(StatusCode.Unauthenticated, "authorization: a valid 'Bearer <token>' is required"));
            default:
                throw new RpcException(new Status(StatusCode.PermissionDenied, requirement.Agent ? "authorization: this method needs an agent token" : $"authorization: this method needs role {requirement.Role}"));
        }
    }
}
