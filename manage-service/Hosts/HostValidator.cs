using System.Text.RegularExpressions;
using Monitor.ManageService.Data;

namespace Monitor.ManageService.Hosts;

/// <summary>Input rules for hosts; each failure names the field (camelCase, as in the HTTP API).</summary>
internal static partial class HostValidator
{
    public const int MaxLabels = 32;
    public const int MaxLabelValueLength = 256;

    /// <summary>
    /// 1..128 printable characters without whitespace, <c>/</c> or <c>\</c>: the report service accepts any printable id,
    /// so an unregistered host must be registrable as it reports; the exclusions keep ids usable in URL paths and etcd keys.
    /// </summary>
    public static void ValidateHostId(string? hostId, string field = "hostId")
    {
        if (string.IsNullOrEmpty(hostId))
        {
            throw ManageException.Invalid(field, "must not be empty");
        }
        if (hostId.Length > ManageDbContext.HostIdMaxLength)
        {
            throw ManageException.Invalid(field, $"{hostId.Length} characters, at most {ManageDbContext.HostIdMaxLength} allowed");
        }
        foreach (var c in hostId)
        {
            if (char.IsControl(c) || char.IsWhiteSpace(c) || c is '/' or '\\')
            {
                throw ManageException.Invalid(field, "must not contain whitespace, control characters, '/' or '\\'");
            }
        }
    }

    public static void ValidateLocation(string? location, string field = "location")
    {
        if (location is null)
        {
            return;
        }
        if (location.Length > ManageDbContext.LocationMaxLength)
        {
            throw ManageException.Invalid(field, $"{location.Length} characters, at most {ManageDbContext.LocationMaxLength} allowed");
        }
        if (location.Any(char.IsControl))
        {
            throw ManageException.Invalid(field, "must not contain control characters");
        }
    }

    public static void ValidateDescription(string? description, string field = "description")
    {
        if (description is not null && description.Length > ManageDbContext.DescriptionMaxLength)
        {
            throw ManageException.Invalid(field, $"{description.Length} characters, at most {ManageDbContext.DescriptionMaxLength} allowed");
        }
    }

    public static void ValidateLabels(IReadOnlyDictionary<string, string>? labels, string field = "labels")
    {
        if (labels is null)
        {
            return;
        }
        if (labels.Count > MaxLabels)
        {
            throw ManageException.Invalid(field, $"{labels.Count} labels, at most {MaxLabels} allowed");
        }
        foreach (var (key, value) in labels)
        {
            if (!LabelKey().IsMatch(key))
            {
                throw ManageException.Invalid(field, $"key '{key}' must match [A-Za-z0-9_][A-Za-z0-9_.-]{{0,63}}");
            }
            if (value is null || value.Length > MaxLabelValueLength || value.Any(char.IsControl))
            {
                throw ManageException.Invalid(field, $"value of '{key}' must be 0..{MaxLabelValueLength} characters without control characters");
            }
        }
    }

    [GeneratedRegex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")]
    private static partial Regex LabelKey();
}
