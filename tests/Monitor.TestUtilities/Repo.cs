namespace Monitor.TestUtilities;

/// <summary>Paths inside the repository, found from the test assembly's location.</summary>
public static class Repo
{
    public static string Root { get; } = FindRoot();

    /// <summary>Debug or Release: whatever the tests were built with (the services are built alongside).</summary>
    public static string Configuration { get; } =
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";

    /// <summary>Path of a built service assembly, e.g. <c>Assembly("report-service", "Monitor.ReportService")</c>.</summary>
    public static string Assembly(string folder, string assemblyName)
    {
        var path = Path.Combine(Root, folder, "bin", Configuration, "net10.0", assemblyName + ".dll");
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path} is missing: build the solution first (./test.sh does)", path);
        }
        return path;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Monitor.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("Monitor.sln not found above " + AppContext.BaseDirectory);
    }
}
