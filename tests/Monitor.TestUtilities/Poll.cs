namespace Monitor.TestUtilities;

/// <summary>Waits for a condition against a deadline instead of sleeping a guessed time.</summary>
public static class Poll
{
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what, CancellationToken cancellationToken = default)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Exception? last = null;
        while (clock.Elapsed < timeout)
        {
            try
            {
                if (await condition())
                {
                    return;
                }
                last = null;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                last = ex;
            }
            await Task.Delay(200, cancellationToken);
        }
        throw new TimeoutException($"Timed out after {timeout} waiting for {what}" + (last is null ? "" : $" (last error: {last.Message})"), last);
    }

    public static Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what, CancellationToken cancellationToken = default) =>
        UntilAsync(() => Task.FromResult(condition()), timeout, what, cancellationToken);
}
