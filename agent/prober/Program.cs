using Monitor.Prober;

// --check-config is a command, not a configuration key.
var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = AppContext.BaseDirectory });
builder.AddProber(args.Where(a => a != ProberCommands.CheckConfig).ToArray());
using var host = builder.Build();

if (!ProberCommands.ValidateConfiguration(host.Services, Console.Error))
{
    return 1;
}
if (args.Contains(ProberCommands.CheckConfig))
{
    Console.Out.WriteLine("monitor-prober: configuration OK");
    return 0;
}
if (!ProberCommands.OpenSpool(host.Services, Console.Error))
{
    return 1;
}
await host.RunAsync();
return 0;
