namespace Monitor.NginxSync;

internal sealed record SyncOptions(string Etcd, string Prefix, string Upstream, string Out, string? Reload, string Extra)
{
    public const string Usage =
        "usage: monitor-nginx-sync --etcd URL --prefix /monitor/services/report/ --upstream NAME --out FILE [--reload CMD] [--extra DIRECTIVES]";

    public static SyncOptions? Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                return null;
            }
            values[args[i][2..]] = args[i + 1];
        }
        if (!values.TryGetValue("etcd", out var etcd) || !values.TryGetValue("out", out var output))
        {
            return null;
        }
        var upstream = values.GetValueOrDefault("upstream", "report_pool");
        if (!upstream.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
        {
            return null;
        }
        return new SyncOptions(
            etcd,
            values.GetValueOrDefault("prefix", "/monitor/services/report/"),
            upstream,
            output,
            values.GetValueOrDefault("reload"),
            values.GetValueOrDefault("extra", "keepalive 32;"));
    }
}
