using System.Globalization;
using System.Text;
using System.Text.Json;
using Google.Protobuf.WellKnownTypes;

namespace Advisor.Server.Buyers;

/// <summary>One record of an interaction file: its 1-based record number, the interaction, or why it could not be read.</summary>
public sealed record FileRecord(long Number, V1.Interaction? Interaction, string? Field, string? Problem, IReadOnlyList<string> Values);

/// <summary>
/// Reads interactions from CSV (RFC 4180: quoted fields, doubled quotes, line breaks inside quotes; a header row
/// naming the columns) or JSON lines (one object per line with the same keys). Columns: buyer_id, buyer_external_id,
/// buyer_name, type, occurred_at, amount, currency, channel, note, idempotency_key. Values that cannot be read
/// (a date that is not a date) become a record with a problem, so the import can report the row and go on.
/// </summary>
public sealed class InteractionFile
{
    public static readonly string[] Columns = ["buyer_id", "buyer_external_id", "buyer_name", "type", "occurred_at", "amount", "currency", "channel", "note", "idempotency_key"];

    private InteractionFile(string path, bool jsonLines, string[] header)
    {
        Path = path;
        JsonLines = jsonLines;
        Header = header;
    }

    public string Path { get; }

    public bool JsonLines { get; }

    /// <summary>The CSV header as written (for the rejected-rows file); JSON lines have none.</summary>
    public IReadOnlyList<string> Header { get; }

    /// <summary>Opens a file; JSON lines when the name ends in .jsonl/.ndjson/.json or <paramref name="format"/> says so. Throws <see cref="InvalidDataException"/> for a bad header.</summary>
    public static InteractionFile Open(string path, string? format)
    {
        var jsonLines = format is not null
            ? format.Equals("jsonl", StringComparison.OrdinalIgnoreCase)
            : System.IO.Path.GetExtension(path).ToLowerInvariant() is ".jsonl" or ".ndjson" or ".json";
        if (jsonLines)
        {
            return new InteractionFile(path, true, []);
        }

        using var reader = new StreamReader(path, Encoding.UTF8);
        var header = ReadCsvRecord(reader) ?? throw new InvalidDataException($"{path} is empty: expected a header row ({string.Join(",", Columns)}).");
        var names = header.Select(h => h.Trim().ToLowerInvariant()).ToArray();
        var unknown = names.Where(n => !Columns.Contains(n)).ToList();
        if (unknown.Count > 0)
        {
            throw new InvalidDataException($"{path}: unknown column(s) {string.Join(", ", unknown)}; the columns are {string.Join(", ", Columns)}.");
        }

        foreach (var required in new[] { "type", "occurred_at" })
        {
            if (!names.Contains(required))
            {
                throw new InvalidDataException($"{path}: the header has no '{required}' column.");
            }
        }

        if (!names.Any(n => n is "buyer_id" or "buyer_external_id" or "buyer_name"))
        {
            throw new InvalidDataException($"{path}: the header needs buyer_id, buyer_external_id or buyer_name.");
        }

        return new InteractionFile(path, false, names);
    }

    /// <summary>The records in file order. <paramref name="position"/> receives the bytes read so far (for a progress bar).</summary>
    public IEnumerable<FileRecord> Read(Action<long>? position = null)
    {
        using var stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        long number = 0;
        if (JsonLines)
        {
            while (reader.ReadLine() is { } line)
            {
                if (string.IsNullOrWhiteSpace(line))
                {
                    continue;
                }

                number++;
                position?.Invoke(stream.Position);
                yield return FromJson(number, line);
            }

            yield break;
        }

        ReadCsvRecord(reader);
        while (ReadCsvRecord(reader) is { } values)
        {
            if (values.Count == 1 && values[0].Length == 0)
            {
                continue;
            }

            number++;
            position?.Invoke(stream.Position);
            yield return FromValues(number, Header.Zip(values).ToDictionary(p => p.First, p => p.Second, StringComparer.Ordinal), values, values.Count > Header.Count ? "has more values than the header has columns" : null);
        }
    }

    /// <summary>Writes one CSV field, quoted when it needs to be.</summary>
    public static string Quote(string value) =>
        value.IndexOfAny([',', '"', '\n', '\r']) >= 0 || value.StartsWith(' ') || value.EndsWith(' ')
            ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\""
            : value;

    private static FileRecord FromJson(long number, string line)
    {
        Dictionary<string, string> values;
        try
        {
            using var document = JsonDocument.Parse(line);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return new FileRecord(number, null, "record", "is not a JSON object", [line]);
            }

            values = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                var name = property.Name.ToLowerInvariant();
                if (!Columns.Contains(name))
                {
                    return new FileRecord(number, null, name, $"is not a known key ({string.Join(", ", Columns)})", [line]);
                }

                values[name] = property.Value.ValueKind switch
                {
                    JsonValueKind.String => property.Value.GetString()!,
                    JsonValueKind.Null => "",
                    _ => property.Value.GetRawText(),
                };
            }
        }
        catch (JsonException ex)
        {
            return new FileRecord(number, null, "record", "is not valid JSON: " + ex.Message, [line]);
        }

        return FromValues(number, values, [line], null);
    }

    private static FileRecord FromValues(long number, Dictionary<string, string> values, IReadOnlyList<string> raw, string? shapeProblem)
    {
        if (shapeProblem is not null)
        {
            return new FileRecord(number, null, "record", shapeProblem, raw);
        }

        string Get(string column) => values.TryGetValue(column, out var v) ? v.Trim() : "";
        var interaction = new V1.Interaction
        {
            BuyerId = Get("buyer_id"),
            BuyerExternalId = Get("buyer_external_id"),
            BuyerDisplayName = Get("buyer_name"),
            Currency = Get("currency").ToUpperInvariant(),
            Channel = Get("channel"),
            Note = values.TryGetValue("note", out var note) ? note : "",
            IdempotencyKey = Get("idempotency_key"),
        };

        var type = Get("type");
        if (type.Length > 0)
        {
            if (InteractionTypes.Parse(type) is not { } kind)
            {
                return new FileRecord(number, null, "type", $"'{type}' is not an interaction type (e.g. purchase, meeting, agreement_signed)", raw);
            }

            interaction.Type = (V1.InteractionType)(int)kind;
        }

        var at = Get("occurred_at");
        if (at.Length > 0)
        {
            if (!DateTimeOffset.TryParse(at, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
            {
                return new FileRecord(number, null, "occurred_at", $"'{at}' is not a date/time (use ISO 8601, e.g. 2025-03-14T09:30:00Z)", raw);
            }

            interaction.OccurredAt = Timestamp.FromDateTimeOffset(time);
        }

        var amount = Get("amount");
        if (amount.Length > 0)
        {
            if (!double.TryParse(amount, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                return new FileRecord(number, null, "amount", $"'{amount}' is not a number (use a dot for decimals)", raw);
            }

            interaction.Amount = value;
        }

        return new FileRecord(number, interaction, null, null, raw);
    }

    /// <summary>One CSV record (RFC 4180), or null at the end of the input.</summary>
    private static List<string>? ReadCsvRecord(TextReader reader)
    {
        var values = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        var any = false;
        while (true)
        {
            var next = reader.Read();
            if (next < 0)
            {
                if (!any)
                {
                    return null;
                }

                values.Add(field.ToString());
                return values;
            }

            any = true;
            var c = (char)next;
            if (quoted)
            {
                if (c == '"')
                {
                    if (reader.Peek() == '"')
                    {
                        reader.Read();
                        field.Append('"');
                    }
                    else
                    {
                        quoted = false;
                    }
                }
                else
                {
                    field.Append(c);
                }
            }
            else if (c == '"' && field.Length == 0)
            {
                quoted = true;
            }
            else if (c == ',')
            {
                values.Add(field.ToString());
                field.Clear();
            }
            else if (c == '\n' || c == '\r')
            {
                if (c == '\r' && reader.Peek() == '\n')
                {
                    reader.Read();
                }

                values.Add(field.ToString());
                return values;
            }
            else
            {
                field.Append(c);
            }
        }
    }
}
