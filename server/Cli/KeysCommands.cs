using System.CommandLine;
using System.Globalization;
using Advisor.Server.Errors;
using Advisor.Server.Security;
using Advisor.Server.Storage;

namespace Advisor.Server.Cli;

public static partial class ToolCommands
{
    /// <summary>Exit codes of the <c>keys</c> commands.</summary>
    public static class KeysExitCodes
    {
        public const int Ok = 0;

        /// <summary>No such key to revoke, or the name is taken by a key that is not revoked.</summary>
        public const int NotDone = 1;

        /// <summary>Invalid arguments or configuration.</summary>
        public const int CannotRun = 2;
    }

    /// <summary><c>keys create|list|revoke</c>: API keys in the configured store, shared by every server using it.</summary>
    public static Command Keys()
    {
        var name = new Option<string>("--name") { Description = "Who or what uses the key (letters, digits, . - _).", Required = true };
        var role = new Option<string>("--role") { Description = "reader, writer or admin.", Required = true };
        role.AcceptOnlyFromAmong("reader", "writer", "admin");
        var expires = new Option<string?>("--expires") { Description = "When the key stops working: a duration (90d, 12h, 30m) or a UTC date/time (2027-01-31)." };
        var create = new Command("create", "Create a key and print it once; only a salted hash is stored.") { name, role, expires };
        create.SetAction((parse, ct) => CreateKeyAsync(parse, parse.GetValue(name)!, parse.GetValue(role)!, parse.GetValue(expires), ct));

        var list = new Command("list", "List keys without their secrets.");
        list.SetAction(ListKeysAsync);

        var key = new Argument<string>("KEY") { Description = "The key's id or name." };
        var revoke = new Command("revoke", "Revoke a key. This server process clears its cache at once; running servers stop accepting it within Security:KeyCacheSeconds.") { key };
        revoke.SetAction((parse, ct) => RevokeKeyAsync(parse, parse.GetValue(key)!, ct));

        var keys = new Command("keys", "API keys: create (printed once), list, revoke. Exit codes: 0 done, 1 not done (name taken, no such key), 2 invalid arguments.");
        foreach (var command in new[] { create, list, revoke })
        {
            command.TreatUnmatchedTokensAsErrors = false;
            keys.Subcommands.Add(command);
        }

        return keys;
    }

    /// <summary>A duration such as 90d, 12h or 30m from now, or an absolute UTC date/time.</summary>
    public static DateTimeOffset? ParseExpiry(string? text, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var unit = text[^1];
        if (unit is 'd' or 'h' or 'm' && double.TryParse(text[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var amount) && amount > 0)
        {
            return now + (unit switch { 'd' => TimeSpan.FromDays(amount), 'h' => TimeSpan.FromHours(amount), _ => TimeSpan.FromMinutes(amount) });
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at)
            ? at
            : throw new FormatException($"--expires '{text}' is neither a duration (90d, 12h, 30m) nor a date/time.");
    }

    private static async Task<int> CreateKeyAsync(ParseResult parse, string name, string roleText, string? expiresText, CancellationToken cancellationToken)
    {
        var output = parse.InvocationConfiguration.Output;
        var error = parse.InvocationConfiguration.Error;
        DateTimeOffset? expires;
        try
        {
            expires = ParseExpiry(expiresText, DateTimeOffset.UtcNow);
        }
        catch (FormatException ex)
        {
            await error.WriteLineAsync(ex.Message);
            return KeysExitCodes.CannotRun;
        }

        return await ServerCommandLine.RunWithServicesAsync(parse, async (services, ct) =>
        {
            try
            {
                var created = await services.GetRequiredService<ApiKeyService>().CreateAsync(name, Enum.Parse<Role>(roleText, ignoreCase: true), expires, "cli", ct);
                var k = created.Key;
                await output.WriteLineAsync($"Created key '{k.Name}' (id {k.Id}), role {roleText}" + (k.ExpireTime is { } e ? $", expires {Ids.Timestamp(e)}" : ", no expiry") + ".");
                await output.WriteLineAsync("This is the only time the key is shown; store it now. Clients send it as 'authorization: Bearer <key>'.");
                await output.WriteLineAsync(created.Secret);
                return KeysExitCodes.Ok;
            }
            catch (RequestValidationException ex)
            {
                await error.WriteLineAsync(ex.Message);
                return KeysExitCodes.CannotRun;
            }
            catch (AlreadyExistsException ex)
            {
                await error.WriteLineAsync(ex.Message);
                return KeysExitCodes.NotDone;
            }
        }, cancellationToken);
    }

    private static Task<int> ListKeysAsync(ParseResult parse, CancellationToken cancellationToken) =>
        ServerCommandLine.RunWithServicesAsync(parse, async (services, ct) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var keys = services.GetRequiredService<ApiKeyService>();
            await output.WriteLineAsync($"{"ID",-18} {"NAME",-24} {"ROLE",-7} {"CREATED",-20} {"EXPIRES",-20} {"STATE",-8} CREATED BY");
            string? token = null;
            var now = DateTimeOffset.UtcNow;
            do
            {
                var page = await keys.ListAsync(200, token, ct);
                foreach (var k in page.Items)
                {
                    var state = k.RevokeTime is not null ? "revoked" : k.IsActive(now) ? "active" : "expired";
                    await output.WriteLineAsync($"{k.Id,-18} {k.Name,-24} {k.Role.ToString().ToLowerInvariant(),-7} {Short(k.CreateTime),-20} {(k.ExpireTime is { } e ? Short(e) : "never"),-20} {state,-8} {k.CreatedBy}");
                }

                token = page.NextPageToken.Length > 0 ? page.NextPageToken : null;
            }
            while (token is not null);

            return KeysExitCodes.Ok;
        }, cancellationToken);

    private static Task<int> RevokeKeyAsync(ParseResult parse, string key, CancellationToken cancellationToken) =>
        ServerCommandLine.RunWithServicesAsync(parse, async (services, ct) =>
        {
            try
            {
                var revoked = await services.GetRequiredService<ApiKeyService>().RevokeAsync(key, "cli", ct);
                await parse.InvocationConfiguration.Output.WriteLineAsync($"Revoked key '{revoked.Name}' (id {revoked.Id}).");
                return KeysExitCodes.Ok;
            }
            catch (NotFoundException)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"No key '{key}' that is not revoked already.");
                return KeysExitCodes.NotDone;
            }
        }, cancellationToken);

    private static string Short(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm'Z'", CultureInfo.InvariantCulture);
}
