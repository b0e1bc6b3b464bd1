using Monitor.Influx;
using Monitor.PersistentService.Influx;
using Monitor.Protos.V1;
using Xunit;

namespace Monitor.PersistentService.UnitTests;

public sealed class BatchLineEncoderTests
{
    [Fact]
    public void Append_MapsSamplesToSchema_HostIdAndLabelsAsSortedTags()
    {
        // Arrange
        var batch = new SampleBatch { HostId = "web 1", Sequence = 1 };
        batch.Samples.Add(new Sample { Metric = "cpu_rate", Value = 12.5, TimestampUnixMs = 1700000000123 });
        var disk = new Sample { Metric = "disk_used_percent", Value = 3, TimestampUnixMs = 1700000000123 };
        disk.Labels["mount"] = "/data";
        disk.Labels["device"] = "sda1";
        batch.Samples.Add(disk);
        var builder = new LineProtocolBuilder();

        // Act
        new BatchLineEncoder().Append(builder, batch);

        // Assert
        Assert.Equal(2, builder.PointCount);
        Assert.Equal(
            "cpu_rate,host_id=web\\ 1 value=12.5 1700000000123\n" +
            "disk_used_percent,device=sda1,host_id=web\\ 1,mount=/data value=3 1700000000123\n",
            builder.ToString());
    }

    [Fact]
    public void Append_NonFiniteValue_Throws()
    {
        // Arrange
        var batch = new SampleBatch { HostId = "h" };
        batch.Samples.Add(new Sample { Metric = "m", Value = double.NaN, TimestampUnixMs = 1 });

        // Act + Assert
        Assert.ThrowsAny<ArgumentException>(() => new BatchLineEncoder().Append(new LineProtocolBuilder(), batch));
    }

    [Fact]
    public void Append_SampleWithMessage_WritesMessageStringFieldWithLineBreaksAsSpaces()
    {
        // Arrange
        var batch = new SampleBatch { HostId = "h1" };
        var sample = new Sample { Metric = "probe_success", Value = 0, TimestampUnixMs = 1700000000123, Message = "connection refused\nretry \"later\"" };
        sample.Labels["target"] = "db";
        batch.Samples.Add(sample);
        var builder = new LineProtocolBuilder();

        // Act
        new BatchLineEncoder().Append(builder, batch);

        // Assert
        Assert.Equal("probe_success,host_id=h1,target=db value=0,message=\"connection refused retry \\\"later\\\"\" 1700000000123\n", builder.ToString());
    }
}
