namespace Monitor.Agent.Collectors;

/// <summary>
/// /proc/net/tcp and /proc/net/tcp6: <c>tcp_connections{state="established"}</c> and the other ten
/// states, every state every time (zeros included) so series do not come and go. A host without
/// IPv6 has no tcp6 file; that is not a failure.
/// <para>
/// Reading those files makes the kernel walk the whole TCP hash table (hundreds of thousands of
/// buckets on a large host), by far the most expensive read of a snapshot, so the states are
/// collected at most once per <c>Agent:TcpStatesMinInterval</c> (default 10 s): every snapshot at
/// the default 60 s interval, every tenth at 1 s.
/// </para>
/// </summary>
internal sealed class TcpCollector(IFileSystem fileSystem, TimeProvider timeProvider, TimeSpan minInterval) : ICollector
{
    private long? _last;

    public string Name => "tcp";

    public void Collect(SampleWriter writer)
    {
        var now = timeProvider.GetTimestamp();
        // A little slack so that a 10 s minimum at a 1 s interval means every 10th, not every 11th.
        if (_last is { } last && timeProvider.GetElapsedTime(last, now) < minInterval - TimeSpan.FromMilliseconds(250))
        {
            return;
        }
        _last = now;
        Span<int> counts = stackalloc int[ProcParsers.TcpStateNames.Length];
        ProcParsers.CountTcpStates(fileSystem.ReadAllText("/proc/net/tcp"), counts);
        try
        {
            ProcParsers.CountTcpStates(fileSystem.ReadAllText("/proc/net/tcp6"), counts);
        }
        catch (FileNotFoundException)
        {
            // IPv6 disabled.
        }
        for (int state = 1; state < counts.Length; state++)
        {
            writer.Add("tcp_connections", counts[state], "state", ProcParsers.TcpStateNames[state]);
        }
    }
}
