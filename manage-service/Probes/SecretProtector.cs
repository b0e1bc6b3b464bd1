using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Monitor.ManageService.Probes;

/// <summary>
/// Encrypts secrets of target configs with AES-256-GCM: <c>enc:v1:</c> + base64(nonce ‖ tag ‖ ciphertext). The key is
/// <c>Probes:SecretKey</c>, or else one generated once and kept in <c>probe_meta</c> (every manage instance reads the
/// same row). Plain secrets never leave this class except towards probers.
/// </summary>
internal sealed partial class SecretProtector(IOptions<ProbeOptions> options, ILogger<SecretProtector> logger) : IDisposable
{
    public const string Prefix = "enc:v1:";
    private const string KeyRow = "secret_key";
    private static readonly byte[] AssociatedData = Encoding.UTF8.GetBytes("monitor.probe-target.secret");

    private readonly SemaphoreSlim _loading = new(1, 1);
    private byte[]? _key;

    /// <summary>Loads the key (configuration, or the database row, creating it on first use).</summary>
    public async Task EnsureKeyAsync(ProbeDbContext db, CancellationToken cancellationToken)
    {
        if (_key is not null)
        {
            return;
        }
        await _loading.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_key is not null)
            {
                return;
            }
            var configured = options.Value.SecretKey;
            if (!string.IsNullOrEmpty(configured))
            {
                _key = ParseKey(configured) ?? throw new InvalidOperationException("Probes:SecretKey must be the base64 encoding of 32 bytes");
                return;
            }
            var candidate = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
            // INSERT IGNORE: the first instance's key wins; everyone then reads the stored one.
            await db.Database.ExecuteSqlAsync($"INSERT IGNORE INTO probe_meta (name, value) VALUES ({KeyRow}, {candidate})", cancellationToken).ConfigureAwait(false);
            var stored = await db.Meta.AsNoTracking().Where(m => m.Name == KeyRow).Select(m => m.Value).FirstAsync(cancellationToken).ConfigureAwait(false);
            _key = ParseKey(stored) ?? throw new InvalidOperationException("probe_meta.secret_key is not the base64 encoding of 32 bytes");
            Log.DatabaseKey(logger);
        }
        finally
        {
            _loading.Release();
        }
    }

    public static bool IsProtected(string value) => value.StartsWith(Prefix, StringComparison.Ordinal);

    public string Protect(string plain)
    {
        var key = _key ?? throw new InvalidOperationException("the secret key is not loaded");
        var plainBytes = Encoding.UTF8.GetBytes(plain);
        var buffer = new byte[12 + 16 + plainBytes.Length];
        var nonce = buffer.AsSpan(0, 12);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key, 16);
        aes.Encrypt(nonce, plainBytes, buffer.AsSpan(28), buffer.AsSpan(12, 16), AssociatedData);
        return Prefix + Convert.ToBase64String(buffer);
    }

    public string Unprotect(string stored)
    {
        if (!IsProtected(stored))
        {
            return stored;
        }
        var key = _key ?? throw new InvalidOperationException("the secret key is not loaded");
        var buffer = Convert.FromBase64String(stored[Prefix.Length..]);
        if (buffer.Length < 28)
        {
            throw new CryptographicException("protected secret is truncated");
        }
        var plain = new byte[buffer.Length - 28];
        using var aes = new AesGcm(key, 16);
        aes.Decrypt(buffer.AsSpan(0, 12), buffer.AsSpan(28), buffer.AsSpan(12, 16), plain, AssociatedData);
        return Encoding.UTF8.GetString(plain);
    }

    public void Dispose() => _loading.Dispose();

    private static byte[]? ParseKey(string base64)
    {
        try
        {
            var bytes = Convert.FromBase64String(base64.Trim());
            return bytes.Length == 32 ? bytes : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6101, EventName = "ProbeSecretKeyFromDatabase", Level = LogLevel.Information,
            Message = "Probes:SecretKey is not set: target secrets are encrypted with the key kept in the manage database")]
        public static partial void DatabaseKey(ILogger logger);
    }
}
