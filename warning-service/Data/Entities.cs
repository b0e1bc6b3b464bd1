namespace Monitor.WarningService.Data;

/// <summary>A rule's identity and its current version (the definition is in <see cref="RuleVersionEntity"/> too).</summary>
internal sealed class RuleEntity
{
    public long Id { get; set; }
    public string Name { get; set; } = "";
    public int CurrentVersion { get; set; }
    public bool Deleted { get; set; }
    public string SpecJson { get; set; } = "";
    public long UpdatedAtMs { get; set; }
}

/// <summary>Every version of every rule; never updated, so an alert's <c>RuleVersion</c> always resolves.</summary>
internal sealed class RuleVersionEntity
{
    public long RuleId { get; set; }
    public int Version { get; set; }
    public string SpecJson { get; set; } = "";
    public bool Deleted { get; set; }
    public long CreatedAtMs { get; set; }
    public string ChangedBy { get; set; } = "";
}

/// <summary>A notification channel. <see cref="Url"/>, <see cref="Secret"/> and <see cref="SmtpPassword"/> are secrets: never logged or returned.</summary>
internal sealed class ChannelEntity
{
    public long Id { get; set; }
    public string Name { get; set; } = "";
    /// <summary><c>webhook</c>, <c>wecom</c>, <c>dingtalk</c>, <c>email</c>.</summary>
    public string Type { get; set; } = "";
    public string? Url { get; set; }
    public string? Secret { get; set; }
    public string? SmtpHost { get; set; }
    public int SmtpPort { get; set; }
    public string? SmtpUser { get; set; }
    public string? SmtpPassword { get; set; }
    public bool SmtpUseTls { get; set; }
    public string? EmailFrom { get; set; }
    public string? EmailTo { get; set; }
    public string? Template { get; set; }
    public bool Enabled { get; set; } = true;
    public long UpdatedAtMs { get; set; }
}

/// <summary>The state machine of one (rule, host), persisted so a restart neither re-sends nor forgets.</summary>
internal sealed class AlertStateEntity
{
    public long RuleId { get; set; }
    public string HostId { get; set; } = "";
    public int RuleVersion { get; set; }
    /// <summary><c>ok</c>, <c>pending</c>, <c>firing</c>, <c>resolved</c>.</summary>
    public string Phase { get; set; } = "ok";
    public int Count { get; set; }
    public string? Severity { get; set; }
    public long PendingSinceMs { get; set; }
    public long LastSampleMs { get; set; }
    public double LastValue { get; set; }
    public string BreachValuesJson { get; set; } = "[]";
    public long? AlertId { get; set; }
    public int Partition { get; set; } = -1;
    public long UpdatedAtMs { get; set; }
}

/// <summary>One firing episode with its evidence.</summary>
internal sealed class AlertEntity
{
    public long Id { get; set; }
    public long RuleId { get; set; }
    public int RuleVersion { get; set; }
    public string RuleName { get; set; } = "";
    public string HostId { get; set; } = "";
    public string Metric { get; set; } = "";
    public string Comparator { get; set; } = "";
    public string Severity { get; set; } = "";
    /// <summary><c>firing</c> or <c>resolved</c>.</summary>
    public string State { get; set; } = "firing";
    public double Value { get; set; }
    public double Threshold { get; set; }
    public string BreachValuesJson { get; set; } = "[]";
    public long WindowStartMs { get; set; }
    public long WindowEndMs { get; set; }
    public int ConsecutiveCount { get; set; }
    public int ConsecutiveNeeded { get; set; }
    public long FiredAtMs { get; set; }
    public long? ResolvedAtMs { get; set; }
    public double? ResolvedValue { get; set; }
    public long? AcknowledgedAtMs { get; set; }
    public string? AcknowledgedBy { get; set; }
    public long LastNotifiedAtMs { get; set; }
    public long RepeatIntervalMs { get; set; }
    public string ChannelsJson { get; set; } = "[]";
    /// <summary>Probe alerts: the probe target (the agent is <see cref="HostId"/>); null for metric rules.</summary>
    public string? Target { get; set; }
    /// <summary>Probe alerts: JSON array of the failure messages that caused it; null for metric rules.</summary>
    public string? EvidenceJson { get; set; }
}

/// <summary>Outbox: one row per (alert transition, channel), written in the same transaction as the state change.</summary>
internal sealed class NotificationEntity
{
    public long Id { get; set; }
    public long AlertId { get; set; }
    public string Channel { get; set; } = "";
    /// <summary><c>firing</c>, <c>resolved</c>, <c>repeat</c>, <c>escalated</c>.</summary>
    public string Kind { get; set; } = "";
    /// <summary><c>pending</c>, <c>sending</c>, <c>sent</c>, <c>failed</c>, <c>silenced</c>.</summary>
    public string Status { get; set; } = "pending";
    public long CreatedAtMs { get; set; }
    public string? ClaimToken { get; set; }
    public long ClaimedUntilMs { get; set; }
    public long? SilenceId { get; set; }
}

/// <summary>Every send: what went where, how it ended, how long it took (never the URL or password).</summary>
internal sealed class PushLogEntity
{
    public long Id { get; set; }
    public long NotificationId { get; set; }
    public long AlertId { get; set; }
    public string Channel { get; set; } = "";
    public string ChannelType { get; set; } = "";
    public string Kind { get; set; } = "";
    public string PayloadDigest { get; set; } = "";
    /// <summary><c>sent</c> or <c>failed</c>.</summary>
    public string Status { get; set; } = "";
    /// <summary>HTTP status code or SMTP reply of the last attempt.</summary>
    public string Reply { get; set; } = "";
    public int Attempts { get; set; }
    public long LatencyMs { get; set; }
    public string? Error { get; set; }
    public long AtMs { get; set; }
}

/// <summary>Suppresses notifications matching all its non-null fields between start and end.</summary>
internal sealed class SilenceEntity
{
    public long Id { get; set; }
    public long? RuleId { get; set; }
    public string? HostId { get; set; }
    public string? Location { get; set; }
    public long StartsAtMs { get; set; }
    public long EndsAtMs { get; set; }
    public string Comment { get; set; } = "";
    public long CreatedAtMs { get; set; }
}

/// <summary>Fencing for the elected evaluator: a write carries the etcd revision of its leadership, and a lower one is refused.</summary>
internal sealed class LeaderFenceEntity
{
    public string Name { get; set; } = "";
    public long Token { get; set; }
    public string Holder { get; set; } = "";
    public long UpdatedAtMs { get; set; }
}

/// <summary>One audited change of a rule, channel or silence: who, when, before/after JSON with secrets masked.</summary>
internal sealed class AuditEntity
{
    public long Id { get; set; }
    public DateTime At { get; set; }
    public string Actor { get; set; } = "";
    /// <summary><c>create</c>, <c>update</c>, <c>delete</c>, <c>enable</c>, <c>disable</c>.</summary>
    public string Action { get; set; } = "";
    /// <summary><c>rule</c>, <c>channel</c>, <c>silence</c>.</summary>
    public string EntityType { get; set; } = "";
    public string EntityId { get; set; } = "";
    public string? Before { get; set; }
    public string? After { get; set; }
}
