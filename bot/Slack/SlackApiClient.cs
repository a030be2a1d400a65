using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;

namespace Advisor.Bot.Slack;

/// <summary>Slack Web API calls the bot makes; a typed client from IHttpClientFactory, 429s handled by <see cref="Hosting.RateLimitHandler"/>.</summary>
public sealed class SlackApiClient(HttpClient http, IOptions<SlackOptions> options, ILogger<SlackApiClient> logger)
{
    public async Task<bool> PostMessageAsync(JsonObject message, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(options.Value.BotToken))
        {
            logger.LogError("Cannot answer in Slack: Slack:BotToken is not configured");
            return false;
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, options.Value.ApiBaseUrl.TrimEnd('/') + "/chat.postMessage")
        {
            Content = JsonContent.Create(message),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", options.Value.BotToken);
        return await SendAsync(request, "chat.postMessage", cancellationToken);
    }

    /// <summary>Posts to a slash command's or button's response_url (valid 30 minutes, 5 posts); needs no token.</summary>
    public async Task<bool> PostToResponseUrlAsync(Uri responseUrl, JsonObject message, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, responseUrl) { Content = JsonContent.Create(message) };
        return await SendAsync(request, "response_url", cancellationToken);
    }

    private async Task<bool> SendAsync(HttpRequestMessage request, string what, CancellationToken cancellationToken)
    {
        using var response = await http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            logger.LogError("Slack {What} failed with HTTP {Status}", what, (int)response.StatusCode);
            return false;
        }

        // Web API methods answer 200 with ok:false on failure; response_url answers plain "ok".
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (text.StartsWith('{') && JsonNode.Parse(text) is JsonObject json && json["ok"]?.GetValue<bool>() == false)
        {
            logger.LogError("Slack {What} failed: {Error}", what, json["error"]?.GetValue<string>());
            return false;
        }

        return true;
    }
}
