using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace Monitor.KafkaMock;

/// <summary>Topic-name validation shared by the command line and the control endpoint.</summary>
internal static partial class TopicNames
{
    public const string Pattern = "[A-Za-z0-9._-]{1,200}";

    /// <summary>True for names matching <see cref="Pattern"/>, except "." and ".." (which Kafka rejects).</summary>
    public static bool IsValid([NotNullWhen(true)] string? name) =>
        name is not null and not "." and not ".." && ValidName().IsMatch(name);

    [GeneratedRegex("^[A-Za-z0-9._-]{1,200}$", RegexOptions.CultureInvariant)]
    private static partial Regex ValidName();
}
