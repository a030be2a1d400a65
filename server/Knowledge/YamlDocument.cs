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
    public int LineOf(string path)
    {
        while (true)
        {
            if (_lines.TryGetValue(path, out var line))
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
}

/// <summary>Parses YAML data files; see <see cref="YamlDocument{T}"/>.</summary>
public static class YamlDocument
{
    private static readonly IDeserializer Deserializer = new DeserializerBuilder()
        .WithNamingConvention(UnderscoredNamingConvention.Instance)
        .Build();

    /// <summary>Parses YAML text; syntax and shape errors become a <see cref="DataFileException"/> naming the file.</summary>
    public static YamlDocument<T> Parse<T>(string text, string fileName)
        where T : class
    {
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            var lines = new Dictionary<string, int>(StringComparer.Ordinal);
            if (stream.Documents.Count > 0)
            {
                Walk(stream.Documents[0].RootNode, "", lines);
            }

            var value = Deserializer.Deserialize<T>(text)
                ?? throw new DataFileException(fileName, [new DataFileProblem("(document)", 1, "the file is empty")]);
            return new YamlDocument<T>(value, lines);
        }
        catch (YamlException ex)
        {
            var message = ex.InnerException is { } inner && ex.Message.StartsWith("Exception during deserialization", StringComparison.Ordinal)
                ? inner.Message
                : ex.Message;
            throw new DataFileException(fileName, [new DataFileProblem($"column {ex.Start.Column}", (int)ex.Start.Line, message)]);
        }
    }

    private static void Walk(YamlNode node, string path, Dictionary<string, int> lines)
    {
        if (path.Length > 0)
        {
            lines[path] = (int)node.Start.Line;
        }

        switch (node)
        {
            case YamlMappingNode map:
                foreach (var (key, child) in map.Children)
                {
                    var name = ((YamlScalarNode)key).Value ?? "";
                    Walk(child, path.Length == 0 ? name : path + "." + name, lines);
                }

                break;
            case YamlSequenceNode seq:
                for (var i = 0; i < seq.Children.Count; i++)
                {
                    Walk(seq.Children[i], $"{path}[{i}]", lines);
                }

                break;
        }
    }
}
