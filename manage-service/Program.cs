// `dotnet Monitor.ManageService.dll --migrate` applies the EF Core migrations and exits (see docs/manage.md).
var builder = WebApplication.CreateBuilder(args);
builder.AddMonitorWebDefaults("manage");
builder.AddManageService();

var app = builder.Build();
if (await app.MigrateManageDatabaseAsync(args))
{
    return;
}
app.MapMonitorDefaultEndpoints();
app.MapManageService();
app.Run();
