using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Monitor.ManageService.Access;
using Monitor.ManageService.Data;
using Monitor.ManageService.Options;
using Monitor.ServiceDefaults.Auth;

namespace Microsoft.Extensions.Hosting;

/// <summary>Wiring of the access-control area of the manage service.</summary>
internal static partial class AccessExtensions
{
    public static IServiceCollection AddAccess(this IServiceCollection services)
    {
        services.AddOptionsWithValidateOnStart<AccessOptions, AccessOptionsValidator>().BindConfiguration(AccessOptions.SectionName);
        services.AddDbContext<AccessDbContext>((sp, db) =>
        {
            var options = sp.GetRequiredService<IOptions<ManageOptions>>().Value;
            var connectionString = sp.GetRequiredService<IConfiguration>().GetConnectionString(options.ConnectionStringName);
            if (string.IsNullOrWhiteSpace(connectionString))
            {
                throw new InvalidOperationException($"ConnectionStrings:{options.ConnectionStringName} is not set (the manage database, e.g. ConnectionStrings__Manage).");
            }
            db.UseMySql(connectionString, ManageDatabase.ParseServerVersion(options.ServerVersion),
                my => my.MigrationsHistoryTable(AccessDbContext.MigrationsHistoryTable));
        });
        services.AddScoped<AccessStore>();
        // Host and probe-target stores take the audit actor from the request they serve.
        services.AddHttpContextAccessor();
        services.AddSingleton<AuditTrail>();
        services.AddSingleton<LoginThrottle>();
        // The manage service is the source of truth: it checks credentials against its database, not over HTTP.
        services.Replace(ServiceDescriptor.Singleton<ICredentialValidator, AccessCredentialValidator>());
        return services;
    }

    /// <summary>Applies the access migrations, then creates the bootstrap admin when configured and no user exists.</summary>
    public static async Task PrepareAccessAsync(IServiceProvider services, CancellationToken ct)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AccessDbContext>();
        var logger = scope.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(AccessExtensions));
        var pending = (await db.Database.GetPendingMigrationsAsync(ct).ConfigureAwait(false)).ToList();
        if (pending.Count > 0)
        {
            Log.Migrating(logger, pending.Count);
            await db.Database.MigrateAsync(ct).ConfigureAwait(false);
        }
        var bootstrap = scope.ServiceProvider.GetRequiredService<IOptions<AccessOptions>>().Value.BootstrapAdmin;
        if (!string.IsNullOrEmpty(bootstrap.Name) && !string.IsNullOrEmpty(bootstrap.Password))
        {
            var store = scope.ServiceProvider.GetRequiredService<AccessStore>();
            if (!await store.AnyUserAsync(ct).ConfigureAwait(false))
            {
                await store.CreateUserAsync("bootstrap", bootstrap.Name, bootstrap.Password, "admin", ct).ConfigureAwait(false);
                Log.BootstrapAdmin(logger, bootstrap.Name);
            }
        }
    }

    /// <summary>
    /// Runs access commands and returns true when one was given (the process then exits):
    /// <c>create-admin --name NAME</c> (password from <c>MONITOR_ADMIN_PASSWORD</c> or the first line of stdin) and
    /// <c>create-agent-token --name NAME [--host-id HOST]</c> and <c>create-token --name NAME --role viewer|editor|admin</c>
    /// (print the token, and only the token, to stdout). Several commands may be chained with <c>--then</c>; they run in
    /// order in one process (one start-up instead of several), each token on its own line, and the first failure stops
    /// the chain (what the commands before it created stays). Every command is checked for its arguments before any runs.
    /// </summary>
    public static async Task<(bool Handled, int ExitCode)> RunAccessCommandAsync(this WebApplication app, string[] args)
    {
        if (!IsAccessCommand(args))
        {
            return (false, 0);
        }
        var commands = SplitChain(args);
        foreach (var command in commands)
        {
            if (command.Length == 0 || !IsAccessCommand(command[0]))
            {
                await Console.Error.WriteLineAsync($"--then must be followed by create-admin, create-token or create-agent-token, not '{(command.Length == 0 ? "" : command[0])}'").ConfigureAwait(false);
                return (true, 2);
            }
            if (string.IsNullOrEmpty(Argument(command, "--name")))
            {
                await Console.Error.WriteLineAsync($"usage: {command[0]} --name NAME" + (command[0] switch { "create-agent-token" => " [--host-id HOST]", "create-token" => " --role viewer|editor|admin", _ => "" })).ConfigureAwait(false);
                return (true, 2);
            }
        }
        var ct = app.Lifetime.ApplicationStopping;
        await PrepareAccessAsync(app.Services, ct).ConfigureAwait(false);
        foreach (var command in commands)
        {
            if (await RunOneAsync(app, command, ct).ConfigureAwait(false) is var exitCode and not 0)
            {
                return (true, exitCode);
            }
        }
        return (true, 0);
    }

    /// <summary>Whether the command line starts with an access command (the process then runs it and exits).</summary>
    public static bool IsAccessCommand(string[] args) => args.Length > 0 && IsAccessCommand(args[0]);

    private static bool IsAccessCommand(string arg) => arg is "create-admin" or "create-agent-token" or "create-token";

    private static List<string[]> SplitChain(string[] args)
    {
        var commands = new List<string[]>();
        var current = new List<string>();
        foreach (var arg in args)
        {
            if (arg == "--then")
            {
                commands.Add([.. current]);
                current.Clear();
            }
            else
            {
                current.Add(arg);
            }
        }
        commands.Add([.. current]);
        return commands;
    }

    private static async Task<int> RunOneAsync(WebApplication app, string[] args, CancellationToken ct)
    {
        var name = Argument(args, "--name")!;
        await using var scope = app.Services.CreateAsyncScope();
        var store = scope.ServiceProvider.GetRequiredService<AccessStore>();
        try
        {
            if (args[0] == "create-admin")
            {
                var password = Environment.GetEnvironmentVariable("MONITOR_ADMIN_PASSWORD");
                if (string.IsNullOrEmpty(password))
                {
                    password = (await Console.In.ReadLineAsync(ct).ConfigureAwait(false))?.TrimEnd('\r', '\n');
                }
                await store.CreateUserAsync("cli", name, password, "admin", ct).ConfigureAwait(false);
                await Console.Error.WriteLineAsync($"administrator '{name}' created").ConfigureAwait(false);
            }
            else
            {
                var (_, secret) = args[0] == "create-token"
                    ? await store.CreateTokenAsync("cli", name, "api", Argument(args, "--role"), null, null, ct).ConfigureAwait(false)
                    : await store.CreateTokenAsync("cli", name, "agent", null, Argument(args, "--host-id"), null, ct).ConfigureAwait(false);
                await Console.Out.WriteLineAsync(secret).ConfigureAwait(false);
            }
            return 0;
        }
        catch (AccessException ex)
        {
            await Console.Error.WriteLineAsync($"{args[0]}: {ex.Message}").ConfigureAwait(false);
            return 1;
        }
    }

    private static string? Argument(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6110, EventName = "AccessDbMigrating", Level = LogLevel.Information, Message = "Applying {Count} access migration(s)")]
        public static partial void Migrating(ILogger logger, int count);

        [LoggerMessage(EventId = 6111, EventName = "BootstrapAdmin", Level = LogLevel.Warning,
            Message = "No user existed: created the bootstrap administrator {Name} from Auth:BootstrapAdmin (remove the password from the configuration now)")]
        public static partial void BootstrapAdmin(ILogger logger, string name);
    }
}
