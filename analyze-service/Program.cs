// Minimal host until its issue fills it in: health endpoints, /metrics and etcd registration.
var builder = WebApplication.CreateBuilder(args);
builder.AddMonitorWebDefaults("analyze");

var app = builder.Build();
app.MapMonitorDefaultEndpoints();
app.Run();
