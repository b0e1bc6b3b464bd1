namespace Monitor.ManageService.Data;

/// <summary>A row of table <c>hosts</c>. Deleted hosts keep their row (soft delete: <see cref="DeletedAt"/> is set).</summary>
public sealed class HostEntity
{
    /// <summary>Surrogate key (the legacy API's <c>ID</c>).</summary>
    public long Id { get; set; }

    /// <summary>Host identity as the agent reports it; unique among hosts that are not deleted.</summary>
    public string HostId { get; set; } = "";

    /// <summary>Location; empty when none.</summary>
    public string Location { get; set; } = "";

    /// <summary>Free-text description; empty when none.</summary>
    public string Description { get; set; } = "";

    /// <summary>Operator-defined labels, stored as a JSON object.</summary>
    public Dictionary<string, string> Labels { get; set; } = [];

    /// <summary>Registration time (UTC).</summary>
    public DateTime CreatedAt { get; set; }

    /// <summary>Last change (UTC).</summary>
    public DateTime UpdatedAt { get; set; }

    /// <summary>Deletion time (UTC); null while the host is registered.</summary>
    public DateTime? DeletedAt { get; set; }

    /// <summary>
    /// Generated column: <see cref="HostId"/> while the host is not deleted, else NULL. Its unique index makes the host id
    /// unique among live hosts (the database decides races between concurrent inserts) while a deleted id can be
    /// registered again.
    /// </summary>
    public string? ActiveHostId { get; private set; }
}
