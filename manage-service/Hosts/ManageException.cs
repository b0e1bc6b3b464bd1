namespace Monitor.ManageService.Hosts;

/// <summary>What went wrong, mapped once to an HTTP status and a gRPC status code.</summary>
internal enum ManageErrorKind
{
    /// <summary>Bad input (400 / InvalidArgument); <see cref="ManageException.Field"/> names the field.</summary>
    Invalid,
    /// <summary>Unknown host (404 / NotFound).</summary>
    NotFound,
    /// <summary>Duplicate host id (409 / AlreadyExists).</summary>
    AlreadyExists,
    /// <summary>A dependency (database, InfluxDB, etcd) failed (503 / Unavailable).</summary>
    Unavailable,
}

/// <summary>An expected failure of a manage operation; HTTP and gRPC translate it, nothing logs and rethrows it.</summary>
internal sealed class ManageException : Exception
{
    public ManageException()
    {
    }

    public ManageException(string message)
        : base(message)
    {
    }

    public ManageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public ManageException(ManageErrorKind kind, string message, string? field = null, Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = kind;
        Field = field;
    }

    public ManageErrorKind Kind { get; }

    /// <summary>The offending request field (camelCase), for <see cref="ManageErrorKind.Invalid"/>.</summary>
    public string? Field { get; }

    public static ManageException Invalid(string field, string message) => new(ManageErrorKind.Invalid, $"{field}: {message}", field);

    public static ManageException NotFound(string hostId) => new(ManageErrorKind.NotFound, $"host '{hostId}' is not registered", "hostId");

    public static ManageException AlreadyExists(string hostId) => new(ManageErrorKind.AlreadyExists, $"host '{hostId}' is already registered", "hostId");
}
