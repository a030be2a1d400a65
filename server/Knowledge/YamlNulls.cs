using System.Collections;
using System.Reflection;

namespace Advisor.Server.Knowledge;

/// <summary>
/// Finds empty YAML values (<c>label:</c>, <c>~</c>, a bare <c>-</c>) that the deserializer put into properties,
/// list items or map values the data classes declare as never null. Reported as problems at their path, so the
/// code that reads a data file may rely on its declared nullability instead of failing on a null it did not expect.
/// </summary>
internal static class YamlNulls
{
    public static void Find(object value, string path, List<DataFileProblem> problems, IReadOnlyDictionary<string, int> lines) =>
        new Search(problems, lines).Object(value, path);

    /// <summary>One search: the nullability reader is not thread-safe, and aliased objects are visited once.</summary>
    private sealed class Search(List<DataFileProblem> problems, IReadOnlyDictionary<string, int> lines)
    {
        private readonly NullabilityInfoContext _nullability = new();
        private readonly HashSet<object> _seen = new(ReferenceEqualityComparer.Instance);

        public void Object(object value, string path)
        {
            if (!_seen.Add(value))
            {
                return;
            }

            foreach (var property in value.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                if (property.GetIndexParameters().Length > 0 || !property.CanWrite || property.PropertyType.IsValueType)
                {
                    continue;
                }

                var info = _nullability.Create(property);
                var name = YamlDotNet.Serialization.NamingConventions.UnderscoredNamingConvention.Instance.Apply(property.Name);
                Check(property.GetValue(value), info, path.Length == 0 ? name : path + "." + name);
            }
        }

        private void Check(object? value, NullabilityInfo info, string path)
        {
            if (value is null)
            {
                if (info.ReadState == NullabilityState.NotNull)
                {
                    problems.Add(new DataFileProblem(path, YamlDocument.LineOf(lines, path), "must not be empty"));
                }

                return;
            }

            switch (value)
            {
                case string:
                    return;
                case IDictionary map when info.GenericTypeArguments is [_, var valueInfo]:
                    foreach (DictionaryEntry entry in map)
                    {
                        Check(entry.Value, valueInfo, $"{path}.{entry.Key}");
                    }

                    return;
                case IList list when info.GenericTypeArguments is [var itemInfo]:
                    for (var i = 0; i < list.Count; i++)
                    {
                        Check(list[i], itemInfo, $"{path}[{i}]");
                    }

                    return;
                case IEnumerable:
                    return;
            }

            if (value.GetType().Namespace?.StartsWith("Advisor.", StringComparison.Ordinal) == true)
            {
                Object(value, path);
            }
        }
    }
}
