using System.Collections;
using System.Text;

namespace ImagePromotion.Gates.Cel;

// CEL values are plain CLR objects so hosts and tests can read results without unwrapping:
// null, bool, long (int), ulong (uint), double, string, CelBytes, IReadOnlyList<object?> (list), CelMap,
// CelTimestamp, CelDuration (nanosecond precision, see CelTimeValues.cs), CelType. Errors are values (CelError) because
// CEL's && and || must be able to absorb an error from either side.

/// <summary>An evaluation error carried as a value, e.g. "no such overload" or "division by zero".</summary>
public sealed record CelError(string Message)
{
    /// <summary><c>error: message</c>.</summary>
    public override string ToString() => "error: " + Message;
}

/// <summary>Thrown inside the evaluator; caught and turned into a <see cref="CelError"/> at operator boundaries.</summary>
internal sealed class CelRuntimeException(string message) : Exception(message);

/// <summary>A CEL bytes value: compared and hashed by content, ordered lexicographically as unsigned bytes.</summary>
public sealed class CelBytes(byte[] value) : IEquatable<CelBytes>, IComparable<CelBytes>
{
    /// <summary>The bytes, not copied: do not change them.</summary>
    public byte[] Value { get; } = value;

    /// <summary>True when both hold the same bytes.</summary>
    public bool Equals(CelBytes? other) => other is not null && Value.AsSpan().SequenceEqual(other.Value);
    /// <summary>True when <paramref name="obj"/> is a <see cref="CelBytes"/> with the same bytes.</summary>
    public override bool Equals(object? obj) => Equals(obj as CelBytes);
    /// <summary>A hash of the content, consistent with <see cref="Equals(CelBytes?)"/>.</summary>
    public override int GetHashCode() { var h = new HashCode(); h.AddBytes(Value); return h.ToHashCode(); }
    /// <summary>Lexicographic order over unsigned bytes (cel-spec bytes ordering); null sorts first.</summary>
    public int CompareTo(CelBytes? other) => other is null ? 1 : Value.AsSpan().SequenceCompareTo(other.Value);
    /// <summary><c>b"…"</c> with the content in lower-case hex.</summary>
    public override string ToString() => "b\"" + Convert.ToHexStringLower(Value) + "\"";
}

/// <summary>A CEL type value, the result of <c>type(x)</c> and of the identifiers <c>int</c>, <c>string</c>, ...</summary>
public sealed record CelType(string Name)
{
    /// <summary>The type name (<c>int</c>, <c>google.protobuf.Timestamp</c>).</summary>
    public override string ToString() => Name;
}

/// <summary>
/// An insertion-ordered CEL map. Keys are bool, int, uint or string; int and uint keys that are numerically
/// equal are the same key, as cel-spec's heterogeneous equality requires.
/// </summary>
public sealed class CelMap : IEnumerable<KeyValuePair<object, object?>>
{
    private readonly Dictionary<object, int> _index = new();
    private readonly List<KeyValuePair<object, object?>> _entries = new();

    /// <summary>Number of entries.</summary>
    public int Count => _entries.Count;
    /// <summary>The keys in insertion order, as added (not normalised).</summary>
    public IEnumerable<object> Keys => _entries.Select(e => e.Key);

    /// <summary>Adds an entry; false when the key is already present.</summary>
    public bool TryAdd(object key, object? value)
    {
        var norm = NormalizeKey(key) ?? throw new CelRuntimeException($"unsupported key type '{CelTypes.NameOf(key)}'");
        if (_index.ContainsKey(norm)) return false;
        _index[norm] = _entries.Count;
        _entries.Add(new(key, value));
        return true;
    }

    /// <summary>Looks a key up; an int, uint or integral double finds the numerically equal key (cel-spec heterogeneous equality).</summary>
    public bool TryGet(object? key, out object? value)
    {
        value = null;
        var norm = NormalizeKey(key);
        if (norm is null || !_index.TryGetValue(norm, out var i)) return false;
        value = _entries[i].Value;
        return true;
    }

    /// <summary>True when <see cref="TryGet"/> would find <paramref name="key"/>.</summary>
    public bool ContainsKey(object? key) => TryGet(key, out _);

    /// <summary>The entries in insertion order.</summary>
    public IEnumerator<KeyValuePair<object, object?>> GetEnumerator() => _entries.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    // Lookups by double are allowed when the double is integral (cel-spec numeric key lookup).
    private static object? NormalizeKey(object? key) => key switch
    {
        string s => s,
        bool b => b,
        long l => l,
        ulong u => u <= long.MaxValue ? (long)u : u,
        double d when d == Math.Floor(d) && d >= long.MinValue && d < 9.2233720368547758E18 => (long)d,
        double d when d == Math.Floor(d) && d >= 0 && d < 1.8446744073709552E19 => (ulong)d,
        _ => null,
    };

    /// <summary><c>{key: value, …}</c> in insertion order, for reasons and test failures.</summary>
    public override string ToString() =>
        "{" + string.Join(", ", _entries.Select(e => CelTypes.Format(e.Key) + ": " + CelTypes.Format(e.Value))) + "}";
}

/// <summary>Type names, formatting and conversion of host (CLR) values into CEL values.</summary>
public static class CelTypes
{
    /// <summary>The CEL type values of the built-in types, named as cel-spec names them (<c>null_type</c>, <c>google.protobuf.Timestamp</c> …).</summary>
    public static readonly CelType Int = new("int"), Uint = new("uint"), Double = new("double"),
        Bool = new("bool"), String = new("string"), Bytes = new("bytes"), List = new("list"), Map = new("map"),
        Null = new("null_type"), Type = new("type"), Timestamp = new("google.protobuf.Timestamp"),
        Duration = new("google.protobuf.Duration");

    internal static readonly IReadOnlyDictionary<string, CelType> ByName = new[]
    {
        Int, Uint, Double, Bool, String, Bytes, List, Map, Null, Type, Timestamp, Duration,
    }.ToDictionary(t => t.Name);

    /// <summary>The CEL type of a host value (an unknown CLR type gets a type named after it, matching no overload).</summary>
    public static CelType TypeOf(object? v) => v switch
    {
        null => Null,
        bool => Bool,
        long => Int,
        ulong => Uint,
        double => Double,
        string => String,
        CelBytes => Bytes,
        CelMap => Map,
        IReadOnlyList<object?> => List,
        CelTimestamp => Timestamp,
        CelDuration => Duration,
        CelType => Type,
        _ => new CelType(v.GetType().Name),
    };

    /// <summary>The CEL type name of a host value (<c>int</c>, <c>string</c> …).</summary>
    public static string NameOf(object? v) => TypeOf(v).Name;

    /// <summary>A readable rendering for reasons and test failures (strings quoted, lists bracketed).</summary>
    public static string Format(object? v) => v switch
    {
        null => "null",
        bool b => b ? "true" : "false",
        long l => l.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ulong u => u.ToString(System.Globalization.CultureInfo.InvariantCulture) + "u",
        double d => d.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        string s => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"",
        IReadOnlyList<object?> list => "[" + string.Join(", ", list.Select(Format)) + "]",
        CelTimestamp t => "timestamp(\"" + CelTime.FormatTimestamp(t) + "\")",
        CelDuration d => "duration(\"" + CelTime.FormatDuration(d) + "\")",
        _ => v.ToString() ?? "",
    };

    /// <summary>
    /// Converts a host value into a CEL value: integers widen to long, floats to double, DateTime and
    /// DateTimeOffset to <see cref="CelTimestamp"/>, TimeSpan to <see cref="CelDuration"/>, string-keyed
    /// dictionaries to maps, other sequences to lists. Unknown objects are rejected with an
    /// <see cref="ArgumentException"/> so a policy never silently sees a CLR object it cannot inspect; so are
    /// TimeSpans beyond CEL's duration range (about ±292 years).
    /// </summary>
    public static object? FromClr(object? value) => value switch
    {
        null => null,
        bool or long or ulong or double or string or CelBytes or CelMap or CelType or CelTimestamp or CelDuration => value,
        int i => (long)i,
        short s => (long)s,
        sbyte sb => (long)sb,
        uint ui => (ulong)ui,
        ushort us => (ulong)us,
        byte b => (ulong)b,
        float f => (double)f,
        decimal m => (double)m,
        Enum e => e.ToString(),
        DateTimeOffset t => CelTimestamp.FromDateTimeOffset(t),
        DateTime dt => CelTimestamp.FromDateTimeOffset(new DateTimeOffset(dt.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(dt, DateTimeKind.Utc) : dt.ToUniversalTime())),
        TimeSpan d => CelDuration.FromTimeSpan(d),
        byte[] bytes => new CelBytes(bytes),
        IReadOnlyList<object?> list when list.All(IsCelValue) => list,
        IDictionary dict => MapFrom(dict),
        IEnumerable seq => seq.Cast<object?>().Select(FromClr).ToArray(),
        _ => throw new ArgumentException($"a {value.GetType().Name} cannot be used as a CEL value; pass primitives, lists and string-keyed maps"),
    };

    private static bool IsCelValue(object? v) => v is null or bool or long or ulong or double or string or CelBytes
        or CelMap or CelType or CelTimestamp or CelDuration || (v is IReadOnlyList<object?> l && l.All(IsCelValue));

    private static CelMap MapFrom(IDictionary dict)
    {
        var map = new CelMap();
        foreach (DictionaryEntry e in dict) map.TryAdd(FromClr(e.Key)!, FromClr(e.Value));
        return map;
    }

    /// <summary>Counts Unicode code points: CEL string size is in code points, not UTF-16 units.</summary>
    internal static long CodePoints(string s)
    {
        long n = 0;
        foreach (var _ in s.EnumerateRunes()) n++;
        return n;
    }

    internal static string Utf8(CelBytes b) => new UTF8Encoding(false, true).GetString(b.Value);
}
