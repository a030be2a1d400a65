using System.CommandLine;
using Advisor.Server.Hosting;

namespace Advisor.Server.Cli;

/// <summary>
/// The server's command line: with no command it serves; a command (import, rules, keys, ...)
/// runs a tool against the same storage and configuration, then exits. Configuration keys such as
/// <c>--Storage:Path</c> work after any command, exactly as for the server.
/// </summary>
public static class ServerCommandLine
{
    /// <summary>Every tool command; each feature contributes its own.</summary>
    public static RootCommand Create()
    {
        var root = new RootCommand("Advisor server. Without a command it serves gRPC; configuration keys (--urls, --Storage:Path, ...) may follow any command.");
        foreach (var command in ToolCommands.All())
        {
            command.TreatUnmatchedTokensAsErrors = false;
            root.Subcommands.Add(command);
        }

        return root;
    }

    /// <summary>True when the arguments start with a tool command (or ask for help), rather than server settings.</summary>
    public static bool IsToolInvocation(string[] args) =>
        args.Length > 0 && (args[0] is "--help" or "-h" or "-?" || ToolCommands.All().Any(c => c.Name == args[0]));

    /// <summary>
    /// Runs a tool with the server's services (storage migrated, snapshot loaded) but without
    /// listening on any port; configuration comes from the unmatched tokens (<c>--Storage:Path x</c>).
    /// </summary>
    public static async Task<int> RunWithServicesAsync(ParseResult parse, Func<IServiceProvider, CancellationToken, Task<int>> work, CancellationToken cancellationToken)
    {
        var app = AdvisorServerHost.Build([.. parse.UnmatchedTokens, "--Logging:LogLevel:Default", "Warning"]);
        await using (app)
        {
            foreach (var initializer in app.Services.GetServices<IHostedService>().OfType<AdvisorInitializer>())
            {
                await initializer.StartAsync(cancellationToken);
            }

            return await work(app.Services, cancellationToken);
        }
    }
}

/// <summary>The tool commands of each feature. A feature adds its command here.</summary>
public static partial class ToolCommands
{
    public static IEnumerable<Command> All() => [Storage(), Rules(), Keys(), Import(), SeedDemo()];
}
