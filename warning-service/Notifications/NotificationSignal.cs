namespace Monitor.WarningService.Notifications;

/// <summary>Wakes the dispatcher right after new notifications were queued, instead of at its next poll.</summary>
internal sealed class NotificationSignal : IDisposable
{
    private readonly SemaphoreSlim _semaphore = new(0, 1);

    public void Pulse()
    {
        try
        {
            if (_semaphore.CurrentCount == 0)
            {
                _semaphore.Release();
            }
        }
        catch (SemaphoreFullException)
        {
            // Already signalled.
        }
    }

    public void Dispose() => _semaphore.Dispose();

    public async Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        await _semaphore.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
}
