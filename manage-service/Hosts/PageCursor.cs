using System.Buffers.Text;
using System.Text;

namespace Monitor.ManageService.Hosts;

/// <summary>Opaque keyset cursor: base64url of the last host id of the previous page (hosts are ordered by host id).</summary>
internal static class PageCursor
{
    private const string Prefix = "h:";

    public static string Encode(string lastHostId) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(Prefix + lastHostId));

    /// <summary>Returns the host id after which the page starts, null for the first page.</summary>
    public static string? Decode(string? cursor, string field)
    {
        if (string.IsNullOrEmpty(cursor))
        {
            return null;
        }
        try
        {
            var text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor));
            if (text.StartsWith(Prefix, StringComparison.Ordinal) && text.Length > Prefix.Length)
            {
                return text[Prefix.Length..];
            }
        }
        catch (FormatException)
        {
        }
        throw ManageException.Invalid(field, "is not a cursor returned by this API");
    }
}
