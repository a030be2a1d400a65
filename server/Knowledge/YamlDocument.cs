using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Advisor.Server.Knowledge;

/// <summary>
/// Reads a YAML data file into a typed document and keeps a map from paths
/// (<c>rules[3].weight</c>) to line numbers, so validation problems can point at the line.
/// </summary>
public sealed class YamlDocument<T>
    where T : class
{
    private readonly Dictionary<string, int> _lines;

    internal YamlDocument(T value, Dictionary<string, int> lines)
    {
        Value = value;
        _lines = lines;
    }

    public T Value { get; }

    /// <summary>The line of a path, or of its nearest parent that has one; 0 when unknown.</summary>
    public int LineOf(string path) => YamlDocument.LineOf(_lines, path);
}

/// <summary>Parses YAML data files; see <see cref="YamlDocument{T}"/>.</summary>
public static class YamlDocument
{
    private static readonly IDeserializer Deserializer = new DeserializerBuilder()
        .WithNamingConvention(UnderscoredNamingConvention.Instance)
        .Build();

    /// <summary>
    /// Deepest nesting of mappings and sequences accepted. The parser, the line map and the deserializer all recurse
    /// per level, so a deep enough document (rule sets come from callers, up to 1 MB) would overflow the stack and
    /// end the process; real data files nest a few levels.
    /// </summary>
    public const int MaxDepth = 64;

    /// <summary>Parses YAML text; syntax and shape errors become a <see cref="DataFileException"/> naming the file.</summary>
    public static YamlDocument<T> Parse<T>(string text, string fileName)
        where T : class
    {
        try
        {
            CheckDepth(text, fileName);
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            var lines = new Dictionary<string, int>(StringComparer.Ordinal);
            if (stream.Documents.Count > 0)
            {
                Walk(stream.Documents[0].RootNode, "", lines);
            }

            var value = Deserializer.Deserialize<T>(text)
                ?? throw new DataFileException(fileName, [new DataFileProblem("(document)", 1, "the file is empty")]);
            var empty = new List<DataFileProblem>();
            YamlNulls.Find(value, "", empty, lines);
            return empty.Count == 0 ? new YamlDocument<T>(value, lines) : throw new DataFileException(fileName, empty);
        }
        catch (Exception ex) when (ex is not YamlException and not DataFileException && ex.TargetSite?.DeclaringType?.Namespace?.StartsWith("YamlDotNet", StringComparison.Ordinal) == true)
        {
            // The YAML library fails on some malformed input with a bare exception of its own state (e.g. a NUL inside
            // a plain scalar) instead of a YamlException: still a problem with the document, not with the server.
            throw new DataFileException(fileName, [new DataFileProblem("(document)", 0, "the YAML could not be read: " + ex.Message)]);
        }
        catch (YamlException ex)
        {
            var message = ex.InnerException is { } inner && ex.Message.StartsWith("Exception during deserialization", StringComparison.Ordinal)
                ? inner.Message
                : ex.Message;
            throw new DataFileException(fileName, [new DataFileProblem($"column {ex.Start.Column}", (int)ex.Start.Line, message)]);
        }
    }

    /// <summary>Streams the document's events (the parser keeps its own stack) and refuses nesting past <see cref="MaxDepth"/>.</summary>
    private static void CheckDepth(string text, string fileName)
    {
        var parser = new Parser(new StringReader(text));
        var depth = 0;
        while (parser.MoveNext())
        {
            switch (parser.Current)
            {
                case YamlDotNet.Core.Events.MappingStart or YamlDotNet.Core.Events.SequenceStart when ++depth > MaxDepth:
                    throw new DataFileException(fileName, [new DataFileProblem($"column {parser.Current.Start.Column}", (int)parser.Current.Start.Line, $"nested deeper than {MaxDepth} levels")]);
                case YamlDotNet.Core.Events.MappingEnd or YamlDotNet.Core.Events.SequenceEnd:
                    depth--;
                    break;
            }
        }
    }

    /// <summary>The line of a path in a line map, or of its nearest parent that has one; 0 when unknown.</summary>
    internal static int LineOf(IReadOnlyDictionary<string, int> lines, string path)
    {
        while (true)
        {
            if (lines.TryGetValue(path, out var line))
            {
                return line;
            }

            var cut = Math.Max(path.LastIndexOf('.'), path.LastIndexOf('['));
            if (cut <= 0)
            {
                return 0;
            }

            path = path[..cut];
        }
    }

    private static void Walk(YamlNode node, string path, Dictionary<string, int> lines) => Walk(node, path, lines, new HashSet<YamlNode>(ReferenceEqualityComparer.Instance));

    private static void Walk(YamlNode node, string path, Dictionary<string, int> lines, HashSet<YamlNode> seen)
    {
        if (path.Length > 0)
        {
            lines[path] = (int)node.Start.Line;
        }

        // An alias is the same node again: walking it once is enough, and walking it every time it is referenced
        // makes a few lines of anchors (the "billion laughs") cost exponential time.
        if (!seen.Add(node))
        {
            return;
        }

        switch (node)
        {
            case YamlMappingNode map:
                foreach (var (key, child) in map.Children)
                {
                    // Keys are scalars in data files; a complex key (a list or map) still gets a path, and fails later on shape.
                    var name = (key as YamlScalarNode)?.Value ?? key.ToString();
                    Walk(child, path.Length == 0 ? name : path + "." + name, lines, seen);
                }

                break;
            case YamlSequenceNode seq:
                for (var i = 0; i < seq.Children.Count; i++)
                {
                    Walk(seq.Children[i], $"{path}[{i}]", lines, seen);
                }

                break;
        }
    }
}
