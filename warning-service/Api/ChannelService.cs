using Microsoft.EntityFrameworkCore;
using Monitor.WarningService.Data;
using Monitor.WarningService.Notifications;
using Monitor.WarningService.Rules;
using MySqlConnector;

namespace Monitor.WarningService.Api;

/// <summary>Notification channels. Secrets are stored for sending and never returned.</summary>
internal sealed class ChannelService(IDbContextFactory<WarningDbContext> dbFactory, RuleCatalog catalog, TimeProvider timeProvider)
{
    public async Task<List<ChannelEntity>> ListAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        return await db.Channels.AsNoTracking().OrderBy(c => c.Name).ToListAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Creates or replaces a channel by name. On replace, a secret left empty keeps the stored one.</summary>
    public async Task<(ChannelEntity? Channel, Dictionary<string, string[]> Errors, bool Created)> UpsertAsync(string? name, ChannelRequest? request, string actor, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (request is null)
        {
            errors["body"] = ["a channel is required"];
            return (null, errors, false);
        }
        name ??= request.Name;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var row = await db.Channels.FirstOrDefaultAsync(c => c.Name == name, cancellationToken).ConfigureAwait(false);
        var created = row is null;
        var before = row is null ? null : AuditLog.View(row);
        var secretsBefore = (row?.Url, row?.Secret, row?.SmtpPassword);
        row ??= new ChannelEntity { Name = name ?? "" };
        row.Type = request.Type;
        row.Url = string.IsNullOrEmpty(request.Url) ? row.Url : request.Url;
        row.Secret = string.IsNullOrEmpty(request.Secret) ? row.Secret : request.Secret;
        row.SmtpHost = request.SmtpHost;
        row.SmtpPort = request.SmtpPort;
        row.SmtpUser = request.SmtpUser;
        row.SmtpPassword = string.IsNullOrEmpty(request.SmtpPassword) ? row.SmtpPassword : request.SmtpPassword;
        row.SmtpUseTls = request.SmtpUseTls;
        row.EmailFrom = request.EmailFrom;
        row.EmailTo = string.Join(",", request.EmailTo ?? []);
        row.Template = request.Template;
        row.Enabled = request.Enabled;
        var now = timeProvider.GetUtcNow();
        row.UpdatedAtMs = now.ToUnixTimeMilliseconds();
        Validate(row, errors);
        if (errors.Count > 0)
        {
            return (null, errors, false);
        }
        if (created)
        {
            db.Channels.Add(row);
        }
        // Same SaveChanges (one transaction) as the change itself; a save that changes nothing is not audited.
        var after = AuditLog.View(row);
        if (!created && secretsBefore != (row.Url, row.Secret, row.SmtpPassword))
        {
            after = after with { SecretsChanged = true };
        }
        if (created || AuditLog.Serialize(before) != AuditLog.Serialize(after))
        {
            db.Audit.Add(AuditLog.Entry(now, actor, created ? "create" : "update", AuditLog.Channel, row.Name, before, after));
        }
        try
        {
            await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (DbUpdateException ex) when (ex.InnerException is MySqlException { ErrorCode: MySqlErrorCode.DuplicateKeyEntry })
        {
            errors["name"] = [$"channel '{row.Name}' already exists"];
            return (null, errors, false);
        }
        await catalog.ReloadAsync(cancellationToken).ConfigureAwait(false);
        return (row, errors, created);
    }

    public async Task<bool> DeleteAsync(string name, string actor, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var row = await db.Channels.FirstOrDefaultAsync(c => c.Name == name, cancellationToken).ConfigureAwait(false);
        if (row is not null)
        {
            db.Channels.Remove(row);
            db.Audit.Add(AuditLog.Entry(timeProvider.GetUtcNow(), actor, "delete", AuditLog.Channel, row.Name, AuditLog.View(row), null));
            try
            {
                await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (DbUpdateConcurrencyException)
            {
                // Deleted by another request in between: that one is audited.
                return false;
            }
        }
        await catalog.ReloadAsync(cancellationToken).ConfigureAwait(false);
        return row is not null;
    }

    private static void Validate(ChannelEntity c, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrWhiteSpace(c.Name) || c.Name.Length > 128)
        {
            errors["name"] = ["name is required, 1..128 characters"];
        }
        if (!ChannelTypes.All.Contains(c.Type))
        {
            errors["type"] = [$"type must be one of {string.Join(", ", ChannelTypes.All)}"];
            return;
        }
        if (c.Type == ChannelTypes.Email)
        {
            if (string.IsNullOrWhiteSpace(c.SmtpHost))
            {
                errors["smtpHost"] = ["an email channel needs smtpHost"];
            }
            if (c.SmtpPort is < 0 or > 65535)
            {
                errors["smtpPort"] = ["smtpPort must be 0..65535 (0 = 25)"];
            }
            if (string.IsNullOrWhiteSpace(c.EmailFrom) || !MimeKit.MailboxAddress.TryParse(c.EmailFrom, out _))
            {
                errors["emailFrom"] = ["emailFrom must be an email address"];
            }
            var to = (c.EmailTo ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries);
            if (to.Length == 0 || to.Any(t => !MimeKit.MailboxAddress.TryParse(t, out _)))
            {
                errors["emailTo"] = ["emailTo must list at least one email address"];
            }
        }
        else if (!Uri.TryCreate(c.Url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            errors["url"] = ["url must be an absolute http(s) URL"];
        }
        if ((c.Template?.Length ?? 0) > 16_000)
        {
            errors["template"] = ["template is at most 16000 characters"];
        }
    }
}
