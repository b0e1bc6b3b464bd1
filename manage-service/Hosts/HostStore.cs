using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Monitor.Influx;
using Monitor.ManageService.Access;
using Monitor.ManageService.Data;
using Monitor.ManageService.Extensions;
using Monitor.ManageService.Options;
using MySqlConnector;

namespace Monitor.ManageService.Hosts;

/// <summary>A page of hosts and the cursor of the next page (null on the last page).</summary>
internal sealed record HostPage(IReadOnlyList<HostEntity> Hosts, string? NextCursor);

/// <summary>The outcome of a decommissioning.</summary>
internal sealed record HostDeletion(string HostId, DateTime DeletedAt, bool DataPurged);

/// <summary>
/// Host operations shared by the gRPC service, the HTTP API and the legacy API. Input is validated here, the
/// database decides uniqueness (unique index on the generated <c>active_host_id</c> column), and expected failures
/// surface as <see cref="ManageException"/>.
/// </summary>
internal sealed partial class HostStore(
    ManageDbContext db,
    TimeProvider timeProvider,
    IOptions<ManageOptions> options,
    InfluxQueryClient influx,
    HostEventPublisher events,
    AuditTrail audit,
    ManageMetrics metrics,
    ILogger<HostStore> logger)
{
    private readonly ManageOptions _options = options.Value;

    public async Task<HostEntity> GetAsync(string? hostId, CancellationToken cancellationToken)
    {
        HostValidator.ValidateHostId(hostId);
        var host = await Db(() => db.Hosts.AsNoTracking().FirstOrDefaultAsync(h => h.HostId == hostId, cancellationToken)).ConfigureAwait(false);
        return host ?? throw ManageException.NotFound(hostId!);
    }

    /// <summary>Hosts ordered by host id, optionally of one location, after <paramref name="cursor"/>.</summary>
    public async Task<HostPage> ListAsync(string? location, int? limit, string? cursor, CancellationToken cancellationToken,
        string limitField = "limit", string cursorField = "cursor")
    {
        var size = limit is null or 0 ? _options.DefaultPageSize : limit.Value;
        if (size < 1 || size > _options.MaxPageSize)
        {
            throw ManageException.Invalid(limitField, $"must be between 1 and {_options.MaxPageSize}");
        }
        HostValidator.ValidateLocation(location);
        var after = PageCursor.Decode(cursor, cursorField);

        var query = db.Hosts.AsNoTracking();
        if (!string.IsNullOrEmpty(location))
        {
            query = query.Where(h => h.Location == location);
        }
        if (after is not null)
        {
            query = query.Where(h => string.Compare(h.HostId, after) > 0);
        }
        var rows = await Db(() => query.OrderBy(h => h.HostId).Take(size + 1).ToListAsync(cancellationToken)).ConfigureAwait(false);
        string? next = null;
        if (rows.Count > size)
        {
            rows.RemoveAt(rows.Count - 1);
            next = PageCursor.Encode(rows[^1].HostId);
        }
        return new HostPage(rows, next);
    }

    /// <summary>Every registered host (for the legacy listing and liveness), ordered by host id.</summary>
    public Task<List<HostEntity>> ListAllAsync(CancellationToken cancellationToken) =>
        Db(() => db.Hosts.AsNoTracking().OrderBy(h => h.HostId).ToListAsync(cancellationToken));

    /// <summary>Latest deletion time of each of <paramref name="hostIds"/> that is deleted and not registered again.</summary>
    public async Task<Dictionary<string, DateTime>> DeletedAmongAsync(IReadOnlyCollection<string> hostIds, CancellationToken cancellationToken)
    {
        if (hostIds.Count == 0)
        {
            return new Dictionary<string, DateTime>(StringComparer.Ordinal);
        }
        var rows = await Db(() => db.Hosts.IgnoreQueryFilters().AsNoTracking()
            .Where(h => h.DeletedAt != null && hostIds.Contains(h.HostId))
            .GroupBy(h => h.HostId)
            .Select(g => new { HostId = g.Key, DeletedAt = g.Max(h => h.DeletedAt)!.Value })
            .ToListAsync(cancellationToken)).ConfigureAwait(false);
        return rows.ToDictionary(r => r.HostId, r => r.DeletedAt, StringComparer.Ordinal);
    }

    public async Task<HostEntity> CreateAsync(string? hostId, string? location, string? description,
        IReadOnlyDictionary<string, string>? labels, CancellationToken cancellationToken)
    {
        HostValidator.ValidateHostId(hostId);
        HostValidator.ValidateLocation(location);
        HostValidator.ValidateDescription(description);
        HostValidator.ValidateLabels(labels);

        var now = Now();
        var host = new HostEntity
        {
            HostId = hostId!,
            Location = location ?? "",
            Description = description ?? "",
            Labels = labels is null ? [] : new Dictionary<string, string>(labels, StringComparer.Ordinal),
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Hosts.Add(host);
        db.Add(audit.Entry("create", AuditEntityType, host.HostId, null, AuditView(host)));
        try
        {
            await Db(() => db.SaveChangesAsync(cancellationToken)).ConfigureAwait(false);
        }
        catch (DbUpdateException ex) when (ManageDatabase.IsDuplicateKey(ex))
        {
            metrics.HostOperation("create", "already_exists");
            throw ManageException.AlreadyExists(hostId!);
        }
        metrics.HostOperation("create", "ok");
        Log.HostCreated(logger, host.HostId, host.Location);
        await events.WithdrawHostDeletedAsync(host.HostId, cancellationToken).ConfigureAwait(false);
        return host;
    }

    /// <summary>Changes the fields that are not null; <paramref name="labels"/> replaces all labels when given.</summary>
    public async Task<HostEntity> UpdateAsync(string? hostId, string? location, string? description,
        IReadOnlyDictionary<string, string>? labels, CancellationToken cancellationToken)
    {
        HostValidator.ValidateHostId(hostId);
        HostValidator.ValidateLocation(location);
        HostValidator.ValidateDescription(description);
        HostValidator.ValidateLabels(labels);

        var host = await Db(() => db.Hosts.FirstOrDefaultAsync(h => h.HostId == hostId, cancellationToken)).ConfigureAwait(false)
            ?? throw ManageException.NotFound(hostId!);
        var before = AuditView(host);
        if (location is not null)
        {
            host.Location = location;
        }
        if (description is not null)
        {
            host.Description = description;
        }
        if (labels is not null)
        {
            host.Labels = new Dictionary<string, string>(labels, StringComparer.Ordinal);
        }
        host.UpdatedAt = Now();
        var after = AuditView(host);
        if (AuditTrail.Serialize(before) != AuditTrail.Serialize(after))
        {
            db.Add(audit.Entry("update", AuditEntityType, host.HostId, before, after));
        }
        await Db(() => db.SaveChangesAsync(cancellationToken)).ConfigureAwait(false);
        metrics.HostOperation("update", "ok");
        Log.HostUpdated(logger, host.HostId, host.Location);
        return host;
    }

    /// <summary>
    /// Decommissions a host: purges its InfluxDB series first when asked (so a failed purge leaves the host registered
    /// and the call can be repeated), then soft-deletes it and announces the deletion in etcd, where the warning
    /// service ends the host's alerts.
    /// </summary>
    public async Task<HostDeletion> DeleteAsync(string? hostId, bool purgeData, CancellationToken cancellationToken)
    {
        HostValidator.ValidateHostId(hostId);
        var host = await Db(() => db.Hosts.FirstOrDefaultAsync(h => h.HostId == hostId, cancellationToken)).ConfigureAwait(false)
            ?? throw ManageException.NotFound(hostId!);

        if (purgeData)
        {
            try
            {
                await influx.QueryAsync($"DROP SERIES WHERE \"host_id\" = {InfluxQl.QuoteString(host.HostId)}", cancellationToken).ConfigureAwait(false);
            }
            catch (InfluxQueryException ex)
            {
                metrics.HostOperation("delete", "purge_failed");
                throw new ManageException(ManageErrorKind.Unavailable, $"purging the data of '{host.HostId}' from InfluxDB failed; the host was not deleted: {ex.Message}", innerException: ex);
            }
            Log.HostPurged(logger, host.HostId);
        }

        var now = Now();
        host.DeletedAt = now;
        host.UpdatedAt = now;
        db.Add(audit.Entry(purgeData ? "delete-purge" : "delete", AuditEntityType, host.HostId, AuditView(host), null));
        await Db(() => db.SaveChangesAsync(cancellationToken)).ConfigureAwait(false);
        metrics.HostOperation("delete", "ok");
        Log.HostDeleted(logger, host.HostId, purgeData);
        await events.PublishHostDeletedAsync(host.HostId, now, purgeData, cancellationToken).ConfigureAwait(false);
        return new HostDeletion(host.HostId, now, purgeData);
    }

    private const string AuditEntityType = "host";

    private static HostAuditView AuditView(HostEntity h) =>
        new(h.HostId, h.Location, h.Description, new SortedDictionary<string, string>(h.Labels, StringComparer.Ordinal));

    // MariaDB keeps microseconds: truncating here makes what we return equal what a later read returns.
    private DateTime Now()
    {
        var ticks = timeProvider.GetUtcNow().UtcTicks;
        return new DateTime(ticks - (ticks % 10), DateTimeKind.Utc);
    }

    private static async Task<T> Db<T>(Func<Task<T>> operation)
    {
        try
        {
            return await operation().ConfigureAwait(false);
        }
        catch (MySqlException ex)
        {
            throw new ManageException(ManageErrorKind.Unavailable, $"the manage database failed: {ex.Message}", innerException: ex);
        }
        catch (DbUpdateException ex) when (ex.InnerException is MySqlException inner && inner.ErrorCode != MySqlErrorCode.DuplicateKeyEntry)
        {
            throw new ManageException(ManageErrorKind.Unavailable, $"the manage database failed: {inner.Message}", innerException: ex);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6010, EventName = "HostCreated", Level = LogLevel.Information, Message = "Registered host {HostId} (location '{Location}')")]
        public static partial void HostCreated(ILogger logger, string hostId, string location);

        [LoggerMessage(EventId = 6011, EventName = "HostUpdated", Level = LogLevel.Information, Message = "Updated host {HostId} (location '{Location}')")]
        public static partial void HostUpdated(ILogger logger, string hostId, string location);

        [LoggerMessage(EventId = 6012, EventName = "HostDeleted", Level = LogLevel.Information, Message = "Deleted host {HostId} (data purged: {Purged})")]
        public static partial void HostDeleted(ILogger logger, string hostId, bool purged);

        [LoggerMessage(EventId = 6013, EventName = "HostDataPurged", Level = LogLevel.Warning, Message = "Dropped every InfluxDB series of host {HostId}")]
        public static partial void HostPurged(ILogger logger, string hostId);
    }
}
