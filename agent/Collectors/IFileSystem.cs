namespace Monitor.Agent.Collectors;

/// <summary>The seam through which collectors read /proc and /sys, so parsers are tested against fixture text.</summary>
internal interface IFileSystem
{
    string ReadAllText(string path);
}

internal sealed class PhysicalFileSystem : IFileSystem
{
    public string ReadAllText(string path) => File.ReadAllText(path);
}
