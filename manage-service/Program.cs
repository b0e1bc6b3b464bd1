// `dotnet Monitor.ManageService.dll --migrate` applies the EF Core migrations and exits (see docs/manage.md);
// `create-admin --name X`, `create-token --name X --role R`, `create-agent-token --name X [--host-id H]` manage access and exit (docs/access.md).
var builder = WebApplication.CreateBuilder(args);
builder.AddMonitorWebDefaults("manage");
if (AccessExtensions.IsAccessCommand(args))
{
    // An access command prints its tokens, and only those, on stdout: every log line goes to stderr.
    builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
}
builder.AddManageService();

var app = builder.Build();
if (await app.RunAccessCommandAsync(args) is { Handled: true } command)
{
    return command.ExitCode;
}
if (await app.MigrateManageDatabaseAsync(args))
{
    return 0;
}
app.MapMonitorDefaultEndpoints();
app.MapManageService();
await app.RunAsync();
return 0;
