using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Http;

namespace Monitor.ServiceDefaults.Auth;

/// <summary>
/// HTTP side of the authentication seam: reads the endpoint's <see cref="RequireRoleAttribute"/>
/// and answers 401/403 with a problem body. gRPC endpoints are left to <see cref="MonitorAuthInterceptor"/>.
/// </summary>
internal sealed class MonitorAuthMiddleware(RequestDelegate next, MonitorAuthorizer authorizer)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var endpoint = context.GetEndpoint();
        if (endpoint is null || endpoint.Metadata.GetMetadata<GrpcMethodMetadata>() is not null)
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        var requirement = AuthRequirement.From(endpoint.Metadata, context.Request.Path.Value ?? "", grpc: false);
        var (decision, principal) = await authorizer.AuthorizeAsync(
            MonitorCredentials.FromRequest(context.Request), requirement, context.RequestAborted).ConfigureAwait(false);
        switch (decision)
        {
            case AuthDecision.Allowed:
                if (principal is not null)
                {
                    principal.AttachTo(context);
                }
                await next(context).ConfigureAwait(false);
                break;
            case AuthDecision.Unauthenticated:
                await Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Authentication required",
                    detail: "Send 'Authorization: Bearer <token>' or log in.").ExecuteAsync(context).ConfigureAwait(false);
                break;
            default:
                await Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden",
                    detail: requirement.Agent ? "This endpoint needs an agent token." : $"This endpoint needs role {requirement.Role}.").ExecuteAsync(context).ConfigureAwait(false);
                break;
        }
    }
}
