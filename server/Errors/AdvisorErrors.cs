namespace Advisor.Server.Errors;

/// <summary>One thing wrong with a request: the field (proto path, e.g. <c>buyer.display_name</c>) and why.</summary>
public sealed record FieldViolation(string Field, string Description);

/// <summary>The request is invalid; maps to INVALID_ARGUMENT with a google.rpc.BadRequest listing every violation.</summary>
public sealed class RequestValidationException(IReadOnlyList<FieldViolation> violations)
    : Exception("The request is invalid: " + string.Join("; ", violations.Select(v => $"{v.Field}: {v.Description}")))
{
    public IReadOnlyList<FieldViolation> Violations { get; } = violations;

    public static RequestValidationException For(string field, string description) => new([new FieldViolation(field, description)]);
}

/// <summary>A named thing does not exist; maps to NOT_FOUND.</summary>
public sealed class NotFoundException(string resource, string id) : Exception($"{resource} '{id}' was not found.")
{
    public string Resource { get; } = resource;

    public string Id { get; } = id;
}

/// <summary>The request lost a race (stale etag, concurrent publish); maps to ABORTED so the caller re-reads and retries.</summary>
public sealed class ConflictException(string message) : Exception(message);

/// <summary>The system is not in a state that allows the request (e.g. publishing an invalid draft); maps to FAILED_PRECONDITION.</summary>
public sealed class PreconditionException(string message) : Exception(message);

/// <summary>The thing to create exists already; maps to ALREADY_EXISTS.</summary>
public sealed class AlreadyExistsException(string message) : Exception(message);

/// <summary>
/// The store could not take the work now (a lock held too long, a database shutting down): nothing was committed, so the
/// caller may retry; maps to UNAVAILABLE with a RetryInfo.
/// </summary>
public sealed class StoreBusyException(string message, Exception inner) : Exception(message, inner);

/// <summary>Collects field violations so a request reports every problem at once, not the first only.</summary>
public sealed class Violations
{
    public const int MaxTextLength = 8192;

    // Created at the first violation: an import checks every item with a fresh instance, and nearly all are valid.
    private List<FieldViolation>? _items;

    public bool Any => _items is { Count: > 0 };

    /// <summary>The violations so far (an import reports them per item instead of failing the call).</summary>
    public IReadOnlyList<FieldViolation> Items => _items ?? [];

    public Violations Add(string field, string description)
    {
        (_items ??= []).Add(new FieldViolation(field, description));
        return this;
    }

    /// <summary>Required text: not empty or blank, at most <paramref name="max"/> characters, no NUL characters.</summary>
    public Violations RequireText(string? value, string field, int max = MaxTextLength)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return Add(field, "must not be empty");
        }

        return OptionalText(value, field, max);
    }

    public Violations OptionalText(string? value, string field, int max) =>
        value is not null && TextProblem(value, max) is { } problem ? Add(field, problem) : this;

    /// <summary>
    /// <see cref="OptionalText(string?, string, int)"/> for the field <paramref name="prefix"/> + <paramref name="name"/>,
    /// whose path is only built when the value is wrong: an import checks every field of every item, and nearly all are
    /// fine, so building the paths up front cost an allocation per field per item.
    /// </summary>
    public Violations OptionalText(string? value, string prefix, string name, int max) =>
        value is not null && TextProblem(value, max) is { } problem ? Add(prefix + name, problem) : this;

    /// <summary>What is wrong with an optional text field's value (one rule set for both overloads), or null.</summary>
    private static string? TextProblem(string value, int max) =>
        value.Length > max ? $"must be at most {max} characters (got {value.Length})"
        : value.Contains('\0', StringComparison.Ordinal) ? "must not contain NUL characters"
        : null;

    public Violations Enum<T>(T value, string field, bool allowUnspecified = true)
        where T : struct, System.Enum
    {
        if (!System.Enum.IsDefined(value))
        {
            Add(field, $"{Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture)} is not a valid {typeof(T).Name}");
        }
        else if (!allowUnspecified && Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture) == 0)
        {
            Add(field, "is required");
        }

        return this;
    }

    public Violations Range(double value, double min, double max, string field)
    {
        if (double.IsNaN(value) || value < min || value > max)
        {
            Add(field, $"must be between {min} and {max}");
        }

        return this;
    }

    public Violations PageSize(int pageSize, int max, string field = "page_size")
    {
        if (pageSize < 0 || pageSize > max)
        {
            Add(field, $"must be between 0 and {max}");
        }

        return this;
    }

    public void ThrowIfAny()
    {
        if (_items is { Count: > 0 })
        {
            throw new RequestValidationException(_items.ToList());
        }
    }
}
