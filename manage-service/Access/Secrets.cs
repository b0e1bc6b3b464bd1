using System.Security.Cryptography;
using System.Text;

namespace Monitor.ManageService.Access;

/// <summary>Password hashing (PBKDF2-SHA256, per-user salt) and token generation.</summary>
internal static class Secrets
{
    public const string ApiTokenPrefix = "mon_";
    public const string AgentTokenPrefix = "mona_";
    private const string Scheme = "pbkdf2-sha256";
    private const int SaltBytes = 16;
    private const int HashBytes = 32;

    public static string HashPassword(string password, int iterations)
    {
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        var hash = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, HashBytes);
        return $"{Scheme}${iterations}${Convert.ToBase64String(salt)}${Convert.ToBase64String(hash)}";
    }

    public static bool VerifyPassword(string password, string stored)
    {
        var parts = stored.Split('$');
        if (parts.Length != 4 || parts[0] != Scheme || !int.TryParse(parts[1], out var iterations) || iterations < 1)
        {
            return false;
        }
        var salt = Convert.FromBase64String(parts[2]);
        var expected = Convert.FromBase64String(parts[3]);
        var actual = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, expected.Length);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }

    /// <summary>A dummy verification so an unknown user name costs as much time as a wrong password.</summary>
    public static void BurnTime(int iterations) =>
        Rfc2898DeriveBytes.Pbkdf2("x"u8, new byte[SaltBytes], iterations, HashAlgorithmName.SHA256, HashBytes);

    /// <summary>A new random secret of 32 bytes, base64url, with <paramref name="prefix"/>.</summary>
    public static string NewToken(string prefix) => prefix + Base64Url(RandomNumberGenerator.GetBytes(32));

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
