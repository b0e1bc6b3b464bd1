using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Monitor.ManageService.Probes;

/// <summary>A prober connected to this instance's WatchTargets.</summary>
internal sealed record ProberInfo(string HostId, string Location, string Version);

/// <summary>Which targets a prober runs.</summary>
internal static class ProbeAssignmentRules
{
    /// <summary>
    /// True when <paramref name="target"/> (enabled) is assigned to the prober on <paramref name="hostId"/> at
    /// <paramref name="location"/>; <paramref name="connectedHostIds"/> are the probers "auto" chooses from.
    /// </summary>
    public static bool IsAssigned(ProbeTarget target, string hostId, string location, IReadOnlyCollection<string> connectedHostIds)
    {
        if (!target.Enabled)
        {
            return false;
        }
        return target.AssignmentMode switch
        {
            AssignmentModes.All => true,
            AssignmentModes.Hosts => target.AssignmentHostIds.Contains(hostId, StringComparer.Ordinal),
            AssignmentModes.Location => location.Length > 0 && string.Equals(target.AssignmentLocation, location, StringComparison.Ordinal),
            AssignmentModes.Auto => Choose(target.Name, connectedHostIds) == hostId,
            _ => false,
        };
    }

    /// <summary>
    /// Rendezvous (highest-random-weight) hashing: every instance computes the same choice from the same set, and when
    /// the chosen prober leaves only its targets move.
    /// </summary>
    public static string? Choose(string targetName, IEnumerable<string> hostIds)
    {
        string? best = null;
        ulong bestScore = 0;
        foreach (var host in hostIds)
        {
            var score = Score(targetName, host);
            if (best is null || score > bestScore || (score == bestScore && string.CompareOrdinal(host, best) < 0))
            {
                best = host;
                bestScore = score;
            }
        }
        return best;
    }

    private static ulong Score(string targetName, string hostId)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(targetName + "\0" + hostId), hash);
        return BinaryPrimitives.ReadUInt64BigEndian(hash);
    }
}
