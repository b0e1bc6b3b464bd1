using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Monitor.ManageService.Data;

/// <summary>
/// Used by <c>dotnet ef</c> only (migrations add / database update). The connection string comes from the
/// environment variable <c>ConnectionStrings__Manage</c> (as in <c>.state/stack/endpoints.env</c>); adding a migration
/// needs no database.
/// </summary>
internal sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<ManageDbContext>
{
    public ManageDbContext CreateDbContext(string[] args)
    {
        var connectionString = Environment.GetEnvironmentVariable("ConnectionStrings__Manage")
            ?? "Server=127.0.0.1;Port=3307;Database=monitor_manage;User ID=monitor";
        var options = new DbContextOptionsBuilder<ManageDbContext>()
            .UseMySql(connectionString, ManageDatabase.ParseServerVersion("10.11.0-mariadb"))
            .Options;
        return new ManageDbContext(options);
    }
}
