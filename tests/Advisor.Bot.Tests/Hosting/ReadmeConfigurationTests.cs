using System.Reflection;
using Advisor.Bot.Hosting;
using Advisor.Server.Hosting;

namespace Advisor.Bot.Tests.Hosting;

/// <summary>
/// The README promises every configuration key. An options class marks its configuration section with a public
/// <c>Section</c> constant; every settable property under it (nested settings objects included) must appear in the
/// README as <c>`Section:Property`</c>. A key added without its README row fails here, not with a user.
/// </summary>
public sealed class ReadmeConfigurationTests
{
    [Fact]
    public void Every_options_property_of_server_and_bot_has_a_README_row()
    {
        var readme = File.ReadAllText(Path.Combine(RepositoryRoot(), "README.md"));
        var keys = OptionsKeys(typeof(AdvisorServerHost).Assembly).Concat(OptionsKeys(typeof(BotHost).Assembly)).ToList();

        keys.Count.ShouldBeGreaterThan(30, "the scan should find the server's and the bot's options");
        keys.Where(key => !readme.Contains($"`{key}`", StringComparison.Ordinal)).ShouldBeEmpty();
    }

    private static IEnumerable<string> OptionsKeys(Assembly assembly) =>
        assembly.GetTypes()
            .Select(type => (Type: type, Field: type.GetField("Section", BindingFlags.Public | BindingFlags.Static)))
            .Where(t => t.Field is { IsLiteral: true } && t.Field.FieldType == typeof(string))
            .SelectMany(t => Keys((string)t.Field!.GetRawConstantValue()!, t.Type));

    private static IEnumerable<string> Keys(string prefix, Type type)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.SetMethod is not { IsPublic: true })
            {
                continue;
            }

            var key = $"{prefix}:{property.Name}";
            if (IsSettingsObject(property.PropertyType))
            {
                foreach (var nested in Keys(key, property.PropertyType))
                {
                    yield return nested;
                }
            }
            else
            {
                yield return key;
            }
        }
    }

    /// <summary>A class of our own bound from a sub-section (not a value, a string or a collection).</summary>
    private static bool IsSettingsObject(Type type) =>
        type.IsClass && type != typeof(string) && type.Namespace?.StartsWith("Advisor.", StringComparison.Ordinal) == true;

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Advisor.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Advisor.sln above {AppContext.BaseDirectory}.");
    }
}
