namespace Monitor.WarningService.Probes;

/// <summary>The state of one (probe rule, agent host, target), persisted so a restart neither re-sends nor forgets.</summary>
internal sealed class ProbeAlertStateEntity
{
    public long RuleId { get; set; }
    public string HostId { get; set; } = "";
    public string Target { get; set; } = "";
    public int RuleVersion { get; set; }
    /// <summary><c>ok</c>, <c>pending</c>, <c>firing</c>, <c>resolved</c>.</summary>
    public string Phase { get; set; } = "ok";
    public int Failures { get; set; }
    public long FirstFailureMs { get; set; }
    public long LastSampleMs { get; set; }
    public string MessagesJson { get; set; } = "[]";
    public long? AlertId { get; set; }
    /// <summary>The Kafka partition the state was last evaluated from (loaded again on assignment).</summary>
    public int Partition { get; set; } = -1;
    public long UpdatedAtMs { get; set; }
}
