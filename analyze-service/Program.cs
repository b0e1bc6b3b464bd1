using Monitor.AnalyzeService.Grpc;
using Monitor.AnalyzeService.Http;

var builder = WebApplication.CreateBuilder(args);
builder.AddMonitorWebDefaults("analyze");
builder.AddAnalyzeService();

var app = builder.Build();
app.MapMonitorDefaultEndpoints();
app.MapGrpcService<AnalyzeGrpcService>();
app.MapAnalyzeApi();
app.MapConsoleChartApi();
app.MapLegacyAnalyzeApi();
app.Run();
