using Advisor.Server.Cli;
using Advisor.Server.Knowledge;

namespace Advisor.Server.Hosting;

/// <summary>The server's entry point: runs the host, or a command-line tool when one is named.</summary>
public static class ServerProgram
{
    public static async Task<int> RunAsync(string[] args)
    {
        MallocArenas.Limit();
        try
        {
            if (ServerCommandLine.IsToolInvocation(args))
            {
                return await ServerCommandLine.Create().Parse(args).InvokeAsync();
            }

            var app = AdvisorServerHost.Build(args);
            await app.StartAsync();
            app.Logger.LogInformation("Advisor server listening on {Addresses}", string.Join(", ", app.Urls));
            await app.WaitForShutdownAsync();
            return 0;
        }
        catch (DataFileException ex)
        {
            await Console.Error.WriteLineAsync("Advisor cannot start: " + ex.Message);
            return 2;
        }
        catch (Security.SecurityStartupException ex)
        {
            await Console.Error.WriteLineAsync("Advisor cannot start: " + ex.Message);
            return 2;
        }
        catch (Microsoft.Extensions.Options.OptionsValidationException ex)
        {
            await Console.Error.WriteLineAsync("Advisor cannot start, the configuration is invalid: " + string.Join("; ", ex.Failures));
            return 2;
        }
        catch (IOException ex) when (ex.Message.Contains("address", StringComparison.OrdinalIgnoreCase))
        {
            await Console.Error.WriteLineAsync("Advisor cannot start: " + ex.Message);
            return 2;
        }
    }
}
