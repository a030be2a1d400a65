using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;

namespace Advisor.Bot.Discord;

/// <summary>Discord HTTP API calls; a typed client from IHttpClientFactory, 429s handled by <see cref="Hosting.RateLimitHandler"/>.</summary>
public sealed class DiscordApiClient(HttpClient http, IOptions<DiscordOptions> options, ILogger<DiscordApiClient> logger)
{
    private string Api => options.Value.ApiBaseUrl.TrimEnd('/');

    /// <summary>Finishes a deferred interaction: PATCH /webhooks/{application}/{token}/messages/@original (no bot token).</summary>
    public async Task<bool> EditOriginalAsync(string applicationId, string interactionToken, JsonObject message, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(
            HttpMethod.Patch,
            $"{Api}/webhooks/{Uri.EscapeDataString(applicationId)}/{Uri.EscapeDataString(interactionToken)}/messages/@original")
        {
            Content = JsonContent.Create(message),
        };
        using var response = await http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            // The URL holds the interaction token: log the status only.
            logger.LogError("Discord rejected the deferred answer with HTTP {Status}", (int)response.StatusCode);
            return false;
        }

        return true;
    }

    public async Task<JsonArray> GetCommandsAsync(string? guildId, CancellationToken cancellationToken)
    {
        using var request = CommandsRequest(HttpMethod.Get, guildId);
        using var response = await http.SendAsync(request, cancellationToken);
        await EnsureSuccessAsync(response, "list commands", cancellationToken);
        return await response.Content.ReadFromJsonAsync<JsonArray>(cancellationToken) ?? [];
    }

    public async Task<JsonArray> PutCommandsAsync(string? guildId, JsonArray commands, CancellationToken cancellationToken)
    {
        using var request = CommandsRequest(HttpMethod.Put, guildId);
        request.Content = JsonContent.Create(commands);
        using var response = await http.SendAsync(request, cancellationToken);
        await EnsureSuccessAsync(response, "register commands", cancellationToken);
        return await response.Content.ReadFromJsonAsync<JsonArray>(cancellationToken) ?? [];
    }

    private HttpRequestMessage CommandsRequest(HttpMethod method, string? guildId)
    {
        var applicationId = options.Value.ApplicationId;
        if (string.IsNullOrEmpty(applicationId) || string.IsNullOrEmpty(options.Value.BotToken))
        {
            throw new InvalidOperationException("Discord:ApplicationId and Discord:BotToken must be configured to register commands.");
        }

        var path = string.IsNullOrEmpty(guildId)
            ? $"{Api}/applications/{applicationId}/commands"
            : $"{Api}/applications/{applicationId}/guilds/{Uri.EscapeDataString(guildId)}/commands";
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bot", options.Value.BotToken);
        return request;
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var detail = await response.Content.ReadAsStringAsync(cancellationToken);
        var hint = response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden
            ? " Check Discord:BotToken and Discord:ApplicationId (not retried: Discord bans clients that repeat 401/403)."
            : "";
        throw new HttpRequestException($"Discord could not {what}: HTTP {(int)response.StatusCode} {TrimDetail(detail)}.{hint}", null, response.StatusCode);
    }

    private static string TrimDetail(string detail) => detail.Length <= 300 ? detail : detail[..300];
}
