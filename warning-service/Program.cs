using Monitor.WarningService.Api;

var builder = WebApplication.CreateBuilder(args);
builder.AddMonitorWebDefaults("warning");
builder.AddWarningService();

var app = builder.Build();
app.MapMonitorDefaultEndpoints();
app.MapWarningService();
app.MapConsoleApi();
app.Run();
