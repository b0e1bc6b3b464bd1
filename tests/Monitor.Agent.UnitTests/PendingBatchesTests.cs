using Monitor.Agent.Sending;
using Monitor.Protos.V1;
using Xunit;

namespace Monitor.Agent.UnitTests;

public sealed class PendingBatchesTests
{
    private static SampleBatch B(ulong seq, int samples = 1)
    {
        var b = new SampleBatch { HostId = "h", Sequence = seq };
        for (int i = 0; i < samples; i++)
        {
            b.Samples.Add(new Sample { Metric = "m", Value = i });
        }
        return b;
    }

    [Fact]
    public void After_ReturnsPendingInSequenceOrder()
    {
        // Arrange
        var pending = new PendingBatches(10);
        pending.Add(B(3));
        pending.Add(B(1));
        pending.Add(B(2));

        // Act + Assert
        Assert.Equal([1UL, 2UL, 3UL], pending.After(0).Select(b => b.Sequence));
        Assert.Equal([3UL], pending.After(2).Select(b => b.Sequence));
    }

    [Fact]
    public void Remove_AckedBatch_LeavesOthers()
    {
        // Arrange
        var pending = new PendingBatches(10);
        pending.Add(B(1));
        pending.Add(B(2));

        // Act
        var removed = pending.Remove(1);
        var duplicate = pending.Remove(1);

        // Assert
        Assert.Equal(1UL, removed!.Sequence);
        Assert.Null(duplicate);
        Assert.Equal([2UL], pending.After(0).Select(b => b.Sequence));
    }

    [Fact]
    public void Add_WhenFull_DropsOldestAndCountsSamples()
    {
        // Arrange
        var pending = new PendingBatches(2);
        pending.Add(B(1, samples: 3));
        pending.Add(B(2));

        // Act
        var dropped = pending.Add(B(3));

        // Assert
        Assert.Equal(1UL, dropped!.Sequence);
        Assert.Equal(1, pending.DroppedBatches);
        Assert.Equal(3, pending.DroppedSamples);
        Assert.Equal([2UL, 3UL], pending.After(0).Select(b => b.Sequence));
    }

    [Fact]
    public async Task WaitForAddAsync_CompletesOnNextAdd()
    {
        // Arrange
        var pending = new PendingBatches(2);
        var wait = pending.WaitForAddAsync(TestContext.Current.CancellationToken);
        Assert.False(wait.IsCompleted);

        // Act
        pending.Add(B(1));

        // Assert
        await wait.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
    }
}
