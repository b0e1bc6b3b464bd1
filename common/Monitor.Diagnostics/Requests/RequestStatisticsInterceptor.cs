using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Options;
using Monitor.Diagnostics.Admin;

namespace Monitor.Diagnostics.Requests;

/// <summary>
/// Counts every gRPC call under its method name (<c>/monitor.v1.ReportService/Report</c>) with its final status:
/// OK, the code of an <see cref="RpcException"/>, Cancelled, or Unknown for any other exception. A streaming
/// call counts once, when it ends, with the whole stream's duration. Add it first so that it also sees calls the
/// auth interceptor refuses.
/// </summary>
public sealed class RequestStatisticsInterceptor(RequestStatistics statistics, IOptions<DiagnosticsOptions> options) : Interceptor
{
    private readonly bool _enabled = options.Value.RequestStatistics;

    /// <inheritdoc />
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        ArgumentNullException.ThrowIfNull(context);
        if (!_enabled)
        {
            return await continuation(request, context).ConfigureAwait(false);
        }
        var start = statistics.GetTimestamp();
        var status = StatusCode.Unknown;
        try
        {
            var response = await continuation(request, context).ConfigureAwait(false);
            status = context.Status.StatusCode;
            return response;
        }
        catch (Exception ex)
        {
            status = StatusOf(ex, context);
            throw;
        }
        finally
        {
            statistics.Record("grpc", context.Method, (int)status, start);
        }
    }

    /// <inheritdoc />
    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        ArgumentNullException.ThrowIfNull(context);
        if (!_enabled)
        {
            return await continuation(requestStream, context).ConfigureAwait(false);
        }
        var start = statistics.GetTimestamp();
        var status = StatusCode.Unknown;
        try
        {
            var response = await continuation(requestStream, context).ConfigureAwait(false);
            status = context.Status.StatusCode;
            return response;
        }
        catch (Exception ex)
        {
            status = StatusOf(ex, context);
            throw;
        }
        finally
        {
            statistics.Record("grpc", context.Method, (int)status, start);
        }
    }

    /// <inheritdoc />
    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        ArgumentNullException.ThrowIfNull(context);
        if (!_enabled)
        {
            await continuation(request, responseStream, context).ConfigureAwait(false);
            return;
        }
        var start = statistics.GetTimestamp();
        var status = StatusCode.Unknown;
        try
        {
            await continuation(request, responseStream, context).ConfigureAwait(false);
            status = context.Status.StatusCode;
        }
        catch (Exception ex)
        {
            status = StatusOf(ex, context);
            throw;
        }
        finally
        {
            statistics.Record("grpc", context.Method, (int)status, start);
        }
    }

    /// <inheritdoc />
    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        ArgumentNullException.ThrowIfNull(context);
        if (!_enabled)
        {
            await continuation(requestStream, responseStream, context).ConfigureAwait(false);
            return;
        }
        var start = statistics.GetTimestamp();
        var status = StatusCode.Unknown;
        try
        {
            await continuation(requestStream, responseStream, context).ConfigureAwait(false);
            status = context.Status.StatusCode;
        }
        catch (Exception ex)
        {
            status = StatusOf(ex, context);
            throw;
        }
        finally
        {
            statistics.Record("grpc", context.Method, (int)status, start);
        }
    }

    private static StatusCode StatusOf(Exception exception, ServerCallContext context) => exception switch
    {
        RpcException rpc => rpc.StatusCode,
        OperationCanceledException when context.CancellationToken.IsCancellationRequested => StatusCode.Cancelled,
        _ => StatusCode.Unknown,
    };
}
