using Monitor.ReportService.Grpc;

var builder = WebApplication.CreateBuilder(args);
builder.AddMonitorWebDefaults("report");
builder.AddReportService();

var app = builder.Build();
app.MapMonitorDefaultEndpoints();
app.MapGrpcService<ReportGrpcService>();
app.MapGrpcService<LegacyReportGrpcService>();
app.Run();
