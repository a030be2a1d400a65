using System.Collections;
using System.Globalization;
using System.Text;
using Google.Protobuf;
using Grpc.Core;

namespace Advisor.Server.Tests.Faults.Fuzz;

/// <summary>
/// One generated call: the method it reaches, the request(s) it sends (shown when it fails), and how to make it
/// over a real channel with the given options.
/// </summary>
internal sealed record FuzzCall(string Method, IReadOnlyList<object> Requests, Func<CallInvoker, CallOptions, Task> Invoke)
{
    public static FuzzCall Unary<TRequest>(string method, TRequest request, Func<CallInvoker, CallOptions, TRequest, Task> invoke)
        where TRequest : notnull => new(method, [request], (invoker, options) => invoke(invoker, options, request));

    /// <summary>The method and every request, with unprintable and invisible characters escaped and long text cut.</summary>
    public override string ToString() => Method + " " + string.Join(" | ", Requests.Select(r => r switch
    {
        IMessage message => FuzzPrinter.Show(message),
        byte[] bytes => "bytes " + Convert.ToHexString(bytes.AsSpan(0, Math.Min(bytes.Length, 512))) + (bytes.Length > 512 ? $"… ({bytes.Length} bytes)" : ""),
        _ => r.ToString(),
    }));
}

/// <summary>
/// Shows a message field by field. Not the protobuf JSON form: that refuses lone surrogates, and a failing
/// request must always print.
/// </summary>
internal static class FuzzPrinter
{
    public static string Show(IMessage message)
    {
        var text = new StringBuilder(message.Descriptor.Name).Append(" {");
        foreach (var field in message.Descriptor.Fields.InFieldNumberOrder())
        {
            var value = field.Accessor.GetValue(message);
            if (field.RealContainingOneof is { } oneof && oneof.Accessor.GetCaseFieldDescriptor(message) != field)
            {
                continue;
            }

            if (!field.IsRepeated && field.RealContainingOneof is null && IsDefault(value))
            {
                continue;
            }

            if (value is IList { Count: 0 })
            {
                continue;
            }

            text.Append(' ').Append(field.Name).Append(": ").Append(Value(value));
        }

        return text.Append(" }").ToString();
    }

    private static bool IsDefault(object? value) => value switch
    {
        null => true,
        string s => s.Length == 0,
        bool b => !b,
        int i => i == 0,
        long l => l == 0,
        double d => d == 0 && !double.IsNegative(d),
        System.Enum e => Convert.ToInt64(e, CultureInfo.InvariantCulture) == 0,
        _ => false,
    };

    private static string Value(object? value) => value switch
    {
        string s => Quote(s),
        IMessage m => Show(m),
        IList list => "[" + string.Join(", ", list.Cast<object?>().Select(Value)) + "]",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        System.Enum e => Convert.ToInt64(e, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture) + $" ({e})",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value?.ToString() ?? "null",
    };

    /// <summary>Quotes text, escaping every character a terminal would hide or reorder; long text shows its ends and length.</summary>
    public static string Quote(string text)
    {
        var shown = text.Length > 160 ? string.Concat(text.AsSpan(0, 100), "…", text.AsSpan(text.Length - 30)) : text;
        var quoted = new StringBuilder("\"");
        foreach (var c in shown)
        {
            var hidden = char.IsControl(c) || char.IsSurrogate(c) || CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.Format or UnicodeCategory.OtherNotAssigned
                || c is '\u2028' or '\u2029' or '\ufffd' or '"' or '\\';
            quoted.Append(hidden ? $"\\u{(int)c:x4}" : c.ToString());
        }

        quoted.Append('"');
        return text.Length > 160 ? quoted + $" ({text.Length} chars)" : quoted.ToString();
    }
}
