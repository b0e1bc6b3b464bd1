using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Monitor.ManageService.Access;

/// <summary>
/// Brute-force throttle of the login endpoint: counts failed logins per user name and per client address in a
/// fixed window (<c>Auth:LoginWindow</c>); beyond the limits further attempts are refused with 429 until the window
/// ends. A successful login clears the user's count. Per instance (behind nginx, each instance counts its own).
/// </summary>
internal sealed class LoginThrottle(IOptions<AccessOptions> options, TimeProvider timeProvider)
{
    private readonly ConcurrentDictionary<string, (int Count, long WindowEndTicks)> _failures = new(StringComparer.Ordinal);

    public bool IsThrottled(string user, string address) =>
        Count("u:" + user.ToLowerInvariant()) >= options.Value.MaxFailedLoginsPerUser
        || Count("a:" + address) >= options.Value.MaxFailedLoginsPerAddress;

    public void Failed(string user, string address)
    {
        Add("u:" + user.ToLowerInvariant());
        Add("a:" + address);
    }

    public void Succeeded(string user) => _failures.TryRemove("u:" + user.ToLowerInvariant(), out _);

    private int Count(string key)
    {
        var now = timeProvider.GetUtcNow().UtcTicks;
        return _failures.TryGetValue(key, out var entry) && entry.WindowEndTicks > now ? entry.Count : 0;
    }

    private void Add(string key)
    {
        var now = timeProvider.GetUtcNow().UtcTicks;
        var window = options.Value.LoginWindow.Ticks;
        if (_failures.Count > 100_000)
        {
            foreach (var (k, v) in _failures)
            {
                if (v.WindowEndTicks <= now)
                {
                    _failures.TryRemove(k, out _);
                }
            }
        }
        _failures.AddOrUpdate(key, _ => (1, now + window), (_, e) => e.WindowEndTicks > now ? (e.Count + 1, e.WindowEndTicks) : (1, now + window));
    }
}
