using Monitor.PersistentService.Kafka;
using Xunit;

namespace Monitor.PersistentService.UnitTests;

public sealed class InFlightWritesTests
{
    [Fact]
    public async Task CompleteOldest_YoungerWriteFinishedFirst_HandsBackInOrderOnlyAfterTheOlder()
    {
        // Arrange
        var writes = new InFlightWrites<string>();
        var older = new TaskCompletionSource();
        var younger = new TaskCompletionSource();
        writes.Add(older.Task, "offsets 0-99");
        writes.Add(younger.Task, "offsets 100-199");

        // Act
        younger.SetResult();
        var endedBeforeOlder = writes.OldestEnded;
        var first = writes.CompleteOldestAsync();
        var waitedForOlder = !first.IsCompleted;
        older.SetResult();

        // Assert
        Assert.False(endedBeforeOlder);
        Assert.True(waitedForOlder);
        Assert.Equal("offsets 0-99", await first);
        Assert.True(writes.OldestEnded);
        Assert.Equal("offsets 100-199", await writes.CompleteOldestAsync());
        Assert.Equal(0, writes.Count);
    }

    [Fact]
    public async Task CompleteOldest_OlderWriteFailed_Rethrows_AndNothingYoungerIsHandedBack()
    {
        // Arrange
        var writes = new InFlightWrites<string>();
        writes.Add(Task.FromCanceled(new CancellationToken(canceled: true)), "offsets 0-99");
        writes.Add(Task.CompletedTask, "offsets 100-199");

        // Act
        await Assert.ThrowsAnyAsync<OperationCanceledException>(writes.CompleteOldestAsync);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(writes.CompleteOldestAsync);

        // Assert
        Assert.Equal(2, writes.Count);
        Assert.Equal(["offsets 0-99", "offsets 100-199"], writes.Items);
    }

    [Fact]
    public void Abandon_WaitsForEveryWrite_AndReturnsAllItems_FailedOnesIncluded()
    {
        // Arrange
        var writes = new InFlightWrites<string>();
        var slow = Task.Delay(TimeSpan.FromMilliseconds(50), TestContext.Current.CancellationToken);
        writes.Add(slow, "a");
        writes.Add(Task.FromException(new InvalidOperationException("influx down")), "b");

        // Act
        var items = writes.Abandon(static ex => ex is InvalidOperationException);

        // Assert
        Assert.True(slow.IsCompleted);
        Assert.Equal(["a", "b"], items);
        Assert.Equal(0, writes.Count);
    }

    [Fact]
    public void Abandon_UnexpectedFailure_Propagates()
    {
        // Arrange
        var writes = new InFlightWrites<string>();
        writes.Add(Task.FromException(new FormatException("bug")), "a");

        // Act + Assert
        Assert.Throws<FormatException>(() => writes.Abandon(static ex => ex is InvalidOperationException));
    }
}
