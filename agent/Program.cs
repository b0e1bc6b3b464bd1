using Monitor.Agent;

// --once and --check-config are commands, not configuration keys.
var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = AppContext.BaseDirectory });
builder.AddAgent(AgentCommands.ConfigurationArgs(args));
using var host = builder.Build();

if (!AgentCommands.ValidateConfiguration(host.Services, Console.Error))
{
    return 1;
}
if (args.Contains(AgentCommands.CheckConfig))
{
    return AgentCommands.CheckSpoolDirectory(host.Services, Console.Out, Console.Error);
}
if (args.Contains(AgentCommands.Once))
{
    return await AgentCommands.PrintOnceAsync(host.Services, Console.Out);
}
if (!AgentCommands.OpenSpool(host.Services, Console.Error))
{
    return 1;
}
await host.RunAsync();
return 0;
