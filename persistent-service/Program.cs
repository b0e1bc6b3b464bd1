var builder = WebApplication.CreateBuilder(args);
builder.AddMonitorWebDefaults("persistent");
builder.AddPersistentService();

var app = builder.Build();
app.MapMonitorDefaultEndpoints();
app.Run();
