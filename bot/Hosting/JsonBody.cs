using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Advisor.Bot.Hosting;

/// <summary>
/// A webhook's JSON answer (Slack's and Discord's alike), written in one piece with a Content-Length. Results.Json took the general serializer
/// path (type lookup, async serialization, a chunked body) for a body that is already a finished JSON tree of a
/// few kilobytes.
/// </summary>
public sealed class JsonBody(JsonNode body) : IResult
{
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            body.WriteTo(writer);
        }

        var response = httpContext.Response;
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = buffer.WrittenCount;
        await response.Body.WriteAsync(buffer.WrittenMemory, httpContext.RequestAborted);
    }
}
