var builder = Host.CreateApplicationBuilder(args);
builder.AddMonitorDefaults();
builder.AddAgent();

builder.Build().Run();
