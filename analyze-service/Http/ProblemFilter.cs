using Monitor.AnalyzeService.Query;

namespace Monitor.AnalyzeService.Http;

/// <summary>Turns the analyze exceptions into RFC 7807 problem bodies that name the offending field.</summary>
internal static class ProblemFilter
{
    public static async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context).ConfigureAwait(false);
        }
        catch (AnalyzeValidationException ex)
        {
            return Results.ValidationProblem(
                new Dictionary<string, string[]> { [ex.Field] = [ex.Message] },
                detail: $"{ex.Field}: {ex.Message}",
                title: "Invalid query parameter");
        }
        catch (AnalyzeNotFoundException ex)
        {
            return Results.Problem(
                statusCode: StatusCodes.Status404NotFound,
                title: "Not found",
                detail: $"{ex.Field}: {ex.Message}",
                extensions: new Dictionary<string, object?> { ["field"] = ex.Field });
        }
        catch (AnalyzeUnavailableException ex)
        {
            return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Service unavailable", detail: ex.Message);
        }
    }
}
