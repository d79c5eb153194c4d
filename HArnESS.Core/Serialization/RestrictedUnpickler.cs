using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace HArnESS.Serialization;

/// <summary>
/// A pickle virtual machine (protocols 0–5) that executes nothing. It builds dicts, lists, tuples and scalars itself;
/// a GLOBAL is resolved only against a fixed allow-list (tensor rebuild functions, storage classes, OrderedDict,
/// argparse.Namespace, a few inert helpers); anything else is refused with a <see cref="HArnessCheckpointException"/> naming
/// it, or — when <see cref="TorchPickleOptions.AllowUnknownGlobals"/> is set — recorded as an inert
/// <see cref="PickleObject"/>. Every length read from the stream is checked against what is left of it before anything
/// is allocated.
/// </summary>
internal sealed class RestrictedUnpickler
{
    /// <summary>A resolved GLOBAL: a marker, never a callable.</summary>
    internal sealed record Global(string Module, string Name)
    {
        public string FullName => Module + "." + Name;
    }

    private sealed class Mark
    {
        public static readonly Mark Instance = new();
    }

    private const int MaxLine = 1 << 20;

    /// <summary>Widest integer accepted (bytes of LONG1/LONG4 or digits of an INT/LONG line): nothing a checkpoint
    /// holds is wider than a 64-bit value apart from the legacy magic number; 256 bytes covers every LONG1.</summary>
    internal const int MaxIntegerBytes = 256;

    private const int MaxIntegerDigits = 620;

    // Globals a state dict (and a fairseq checkpoint's harmless extras) may name. Values say how REDUCE builds them.
    private static readonly HashSet<string> TensorFunctions =
    [
        "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor",
        "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state",
    ];

    private static readonly HashSet<string> InertClasses =
    [
        "argparse.Namespace",
        "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar", "numpy.dtype",
        "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct", "numpy.ndarray",
        "torch.device", "torch.Size", "collections.defaultdict",
    ];

    private static readonly HashSet<string> TorchDTypes =
    [
        "float32", "float", "float64", "double", "float16", "half", "bfloat16", "int64", "long", "int32", "int",
        "int16", "short", "int8", "uint8", "bool", "complex64", "complex128",
    ];

    private readonly Stream _s;
    private readonly string _file;
    private readonly TorchPickleOptions _options;
    private readonly Func<object?, object?> _persistentLoad;
    private readonly List<object?> _stack = new();
    private readonly List<int> _marks = new();
    private readonly Dictionary<long, object?> _memo = new();
    private long _budget;

    public RestrictedUnpickler(Stream stream, string filePath, TorchPickleOptions options, Func<object?, object?> persistentLoad)
    {
        _s = stream;
        _file = filePath;
        _options = options;
        _persistentLoad = persistentLoad;
    }

    /// <summary>Runs the machine to STOP and returns the result.</summary>
    public object? Load()
    {
        _stack.Clear();
        _marks.Clear();
        _memo.Clear();
        // Every opcode pushes at most a few references, so a stream of N bytes needs O(N) items; copies made by
        // list()/dict()/tuple() calls and tuple keys turned into text are charged against this budget so a small
        // stream cannot make the machine allocate quadratically.
        _budget = 16 * Math.Max(0, _s.Length - _s.Position) + (1 << 20);
        while (true)
        {
            int op = _s.ReadByte();
            if (op < 0) throw Fail("ends before STOP");
            switch (op)
            {
                case 0x80: // PROTO
                    int proto = ReadByte();
                    if (proto > 5) throw Fail($"uses pickle protocol {proto} (at most 5 is known)");
                    break;
                case 0x95: Skip(8); break; // FRAME: only a read-ahead hint
                case '.': return Pop(); // STOP
                case '(': _marks.Add(_stack.Count); break;
                case '0': Pop(); break;
                case '1': PopMark(); break;
                case '2': Push(Peek()); break;
                case 'N': Push(null); break;
                case 0x88: Push(true); break;
                case 0x89: Push(false); break;
                case 'J': Push((long)BinaryPrimitives.ReadInt32LittleEndian(ReadBytes(4))); break;
                case 'K': Push((long)ReadByte()); break;
                case 'M': Push((long)BinaryPrimitives.ReadUInt16LittleEndian(ReadBytes(2))); break;
                case 0x8a: Push(ReadLong(ReadByte())); break;
                case 0x8b: Push(ReadLong(ReadLength(4, MaxIntegerBytes))); break;
                case 'I': Push(ParseIntLine(ReadLine())); break;
                case 'L': Push(ParseLongLine(ReadLine())); break;
                case 'F': Push(ParseFloatLine(ReadLine())); break;
                case 'G': Push(BinaryPrimitives.ReadDoubleBigEndian(ReadBytes(8))); break;
                case 'X': Push(Encoding.UTF8.GetString(ReadBytes(ReadLength(4)))); break;
                case 0x8c: Push(Encoding.UTF8.GetString(ReadBytes(ReadByte()))); break;
                case 0x8d: Push(Encoding.UTF8.GetString(ReadBytes(ReadLength(8)))); break;
                case 'V': Push(DecodeRawUnicodeEscape(ReadLine())); break;
                case 'S': Push(ParseQuotedString(ReadLine())); break;
                case 'T': Push(Encoding.Latin1.GetString(ReadBytes(ReadLength(4)))); break; // py2 str → text
                case 'U': Push(Encoding.Latin1.GetString(ReadBytes(ReadByte()))); break;
                case 'B': Push(ReadBytes(ReadLength(4))); break;
                case 'C': Push(ReadBytes(ReadByte())); break;
                case 0x8e: Push(ReadBytes(ReadLength(8))); break;
                case 0x96: Push(ReadBytes(ReadLength(8))); break; // BYTEARRAY8
                case 0x97: case 0x98: throw Fail("uses out-of-band buffers (NEXT_BUFFER/READONLY_BUFFER), which checkpoints never need");
                case ')': Push(Array.Empty<object?>()); break;
                case 't': Push(PopMark().ToArray()); break;
                case 0x85: Push(new[] { Pop() }); break;
                case 0x86: { var b = Pop(); var a = Pop(); Push(new[] { a, b }); break; }
                case 0x87: { var c = Pop(); var b = Pop(); var a = Pop(); Push(new[] { a, b, c }); break; }
                case ']': Push(new List<object?>()); break;
                case 'l': Push(PopMark()); break;
                case '}': Push(new Dictionary<object, object?>()); break;
                case 'd': { var items = PopMark(); var d = new Dictionary<object, object?>(); SetItems(d, items); Push(d); break; }
                case 0x8f: Push(new List<object?>()); break; // EMPTY_SET → list (order kept, values inert)
                case 0x91: Push(PopMark()); break; // FROZENSET
                case 0x90: { var items = PopMark(); AppendTo(Peek(), items); break; } // ADDITEMS
                case 'a': { var v = Pop(); AppendTo(Peek(), [v]); break; }
                case 'e': { var items = PopMark(); AppendTo(Peek(), items); break; }
                case 's': { var v = Pop(); var k = Pop(); SetItems(Peek(), [k, v]); break; }
                case 'u': { var items = PopMark(); SetItems(Peek(), items); break; }
                case 'p': _memo[ParseLongLine(ReadLine()) is long pl ? pl : throw Fail("has a bad PUT index")] = Peek(); break;
                case 'q': _memo[ReadByte()] = Peek(); break;
                case 'r': _memo[BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4))] = Peek(); break;
                case 0x94: _memo[_memo.Count] = Peek(); break; // MEMOIZE
                case 'g': Push(GetMemo(ParseLongLine(ReadLine()) is long gl ? gl : throw Fail("has a bad GET index"))); break;
                case 'h': Push(GetMemo(ReadByte())); break;
                case 'j': Push(GetMemo(BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4)))); break;
                case 'c': { var module = ReadLine(); var name = ReadLine(); Push(ResolveGlobal(module, name)); break; }
                case 0x93: { var name = Pop() as string; var module = Pop() as string; if (name is null || module is null) throw Fail("has STACK_GLOBAL without two strings"); Push(ResolveGlobal(module, name)); break; }
                case 'i': // INST: module/name lines, arguments since the mark
                {
                    var module = ReadLine();
                    var name = ReadLine();
                    var g = ResolveGlobal(module, name);
                    Push(Call(g, PopMark().ToArray()));
                    break;
                }
                case 'o': { var items = PopMark(); if (items.Count == 0) throw Fail("has OBJ without a class"); Push(Call(items[0], items.Skip(1).ToArray())); break; }
                case 'R': { var args = Pop() as object?[] ?? throw Fail("has REDUCE whose arguments are not a tuple"); var f = Pop(); Push(Call(f, args)); break; }
                case 0x81: { var args = Pop() as object?[] ?? throw Fail("has NEWOBJ whose arguments are not a tuple"); var cls = Pop(); Push(Call(cls, args)); break; }
                case 0x92: { Pop(); var args = Pop() as object?[] ?? throw Fail("has NEWOBJ_EX whose arguments are not a tuple"); var cls = Pop(); Push(Call(cls, args)); break; }
                case 'b': { var state = Pop(); Build(Peek(), state); break; }
                case 'Q': Push(_persistentLoad(Pop())); break;
                case 'P': Push(_persistentLoad(ReadLine())); break;
                case 0x82: case 0x83: case 0x84: throw Fail("uses the copyreg extension registry (EXT opcodes), which checkpoints never need");
                default: throw Fail($"has unknown opcode 0x{op:x2} at byte {_s.Position - 1}");
            }
        }
    }

    private object ResolveGlobal(string module, string name)
    {
        string full = module + "." + name;
        if (module == "__builtin__") full = "builtins." + name;
        if (TensorFunctions.Contains(full) || full == "collections.OrderedDict" || full == "_codecs.encode"
            || full is "builtins.set" or "builtins.frozenset" or "builtins.list" or "builtins.dict" or "builtins.tuple"
            || InertClasses.Contains(full)
            || TensorDTypes.FromStorageName(module, name) is not null
            || (module == "torch" && TorchDTypes.Contains(name)))
            return new Global(module == "__builtin__" ? "builtins" : module, name);
        if (_options.AllowUnknownGlobals) return new Global(module, name);
        throw new HArnessCheckpointException(
            $"Checkpoint '{_file}' asks for the Python global '{full}', which is not allowed in a state dict " +
            "(nothing was executed). Pass AllowUnknownGlobals/lenient loading to read it as an inert placeholder.", _file);
    }

    private object? Call(object? callable, object?[] args)
    {
        if (callable is not Global g) throw Fail($"calls something that is not a global ({Describe(callable)})");
        switch (g.FullName)
        {
            case "collections.OrderedDict":
            case "builtins.dict":
                var d = new Dictionary<object, object?>();
                if (args.Length == 1 && args[0] is List<object?> pairs)
                {
                    Charge(pairs.Count);
                    foreach (var p in pairs)
                        if (p is object?[] { Length: 2 } kv) SetItems(d, [kv[0], kv[1]]);
                }
                return d;
            case "builtins.set":
            case "builtins.frozenset":
            case "builtins.list":
                if (args.Length == 1 && args[0] is List<object?> l)
                {
                    Charge(l.Count);
                    return new List<object?>(l);
                }
                return new List<object?>();
            case "builtins.tuple":
            case "torch.Size":
                if (args.Length == 1 && args[0] is object?[] or List<object?>)
                {
                    var items = AsList(args[0]);
                    Charge(items.Count);
                    return items.ToArray();
                }
                return args;
            case "_codecs.encode":
                if (args is [string text, ..])
                {
                    Charge(text.Length); // the same memoised text may be encoded many times
                    var enc = args.Length > 1 ? args[1] as string : "utf-8";
                    return enc is "latin1" or "latin-1" ? Encoding.Latin1.GetBytes(text) : Encoding.UTF8.GetBytes(text);
                }
                throw Fail("calls _codecs.encode without a string");
            case "torch._utils._rebuild_tensor_v2":
            case "torch._utils._rebuild_tensor":
                return RebuildTensor(args);
            case "torch._utils._rebuild_parameter":
            case "torch._utils._rebuild_parameter_with_state":
                return args.Length >= 1 && args[0] is TorchTensorRef t ? t : throw Fail("rebuilds a parameter from something that is not a tensor");
            default:
                return new PickleObject(g.Module, g.Name, args);
        }
    }

    private TorchTensorRef RebuildTensor(object?[] args)
    {
        if (args.Length < 4 || args[0] is not TorchStorageRef storage)
            throw Fail("calls _rebuild_tensor without (storage, offset, size, stride)");
        long offset = args[1] as long? ?? throw Fail("has a tensor whose storage offset is not an integer");
        var size = AsLongs(args[2], "size");
        var stride = AsLongs(args[3], "stride");
        return new TorchTensorRef(TorchTensorRef.UnnamedName, storage, offset, size, stride, _file, _options.MaxExpandedElements);
    }

    private long[] AsLongs(object? o, string what)
    {
        var items = AsList(o);
        var r = new long[items.Count];
        for (int i = 0; i < r.Length; i++) r[i] = items[i] as long? ?? throw Fail($"has a tensor {what} that is not a tuple of integers");
        return r;
    }

    private IReadOnlyList<object?> AsList(object? o) => o switch
    {
        object?[] a => a,
        List<object?> l => l,
        _ => throw Fail($"expected a tuple, found {Describe(o)}"),
    };

    private void Build(object? target, object? state)
    {
        switch (target)
        {
            case PickleObject po:
                po.State = state;
                break;
            case Dictionary<object, object?>:
                // OrderedDict's instance attributes (a state dict's _metadata): not part of the tensors.
                break;
            default:
                if (target is Global or null) throw Fail($"applies BUILD to {Describe(target)}");
                break;
        }
    }

    private void SetItems(object? target, IReadOnlyList<object?> items)
    {
        if (items.Count % 2 != 0) throw Fail("has SETITEMS with an odd number of items");
        Dictionary<object, object?> d = target switch
        {
            Dictionary<object, object?> dict => dict,
            PickleObject po => po.Entries,
            _ => throw Fail($"sets items on {Describe(target)}"),
        };
        for (int i = 0; i < items.Count; i += 2)
        {
            var key = items[i] ?? throw Fail("has a dict key that is None");
            if (key is object?[] tuple)
            {
                Charge(tuple.Length);
                key = "(" + string.Join(", ", tuple.Select(KeyText)) + ")";
                Charge(((string)key).Length / 8);
            }
            d[key] = items[i + 1];
        }
    }

    /// <summary>A tuple key's item as text: scalars as themselves, containers by type (never their contents).</summary>
    private static string KeyText(object? o) => o switch
    {
        null => "None",
        string or long or bool or double or BigInteger => Convert.ToString(o, CultureInfo.InvariantCulture)!,
        _ => Describe(o),
    };

    private void Charge(long items)
    {
        _budget -= items;
        if (_budget < 0)
            throw Fail("builds more containers than its size can justify (copies of lists, dicts or tuples); refused as a decompression bomb");
    }

    private void AppendTo(object? target, IReadOnlyList<object?> items)
    {
        switch (target)
        {
            case List<object?> list: list.AddRange(items); break;
            case PickleObject po: po.Items.AddRange(items); break;
            default: throw Fail($"appends to {Describe(target)}");
        }
    }

    private static string Describe(object? o) => o switch
    {
        null => "None",
        Global g => g.FullName,
        _ => o.GetType().Name,
    };

    private void Push(object? o) => _stack.Add(o);

    private object? Pop()
    {
        if (_stack.Count == 0 || (_marks.Count > 0 && _marks[^1] == _stack.Count)) throw Fail("pops an empty stack");
        var o = _stack[^1];
        _stack.RemoveAt(_stack.Count - 1);
        return o;
    }

    private object? Peek()
    {
        if (_stack.Count == 0) throw Fail("reads an empty stack");
        return _stack[^1];
    }

    private List<object?> PopMark()
    {
        if (_marks.Count == 0) throw Fail("has no MARK to pop to");
        int m = _marks[^1];
        _marks.RemoveAt(_marks.Count - 1);
        var items = _stack.GetRange(m, _stack.Count - m);
        _stack.RemoveRange(m, _stack.Count - m);
        return items;
    }

    private object? GetMemo(long i) => _memo.TryGetValue(i, out var v) ? v : throw Fail($"reads memo entry {i}, which was never stored");

    private int ReadByte()
    {
        int b = _s.ReadByte();
        return b < 0 ? throw Fail("ends in the middle of an opcode") : b;
    }

    private void Skip(int n) => ReadBytes(n);

    private int ReadLength(int width, long max = int.MaxValue)
    {
        var b = ReadBytes(width);
        ulong n = width switch
        {
            4 => BinaryPrimitives.ReadUInt32LittleEndian(b),
            8 => BinaryPrimitives.ReadUInt64LittleEndian(b),
            _ => throw new ArgumentOutOfRangeException(nameof(width)),
        };
        long left = _s.Length - _s.Position;
        if (n > (ulong)max) throw Fail($"declares a {n}-byte item, more than the limit of {max} bytes");
        if (n > (ulong)left || n > int.MaxValue) throw Fail($"declares a {n}-byte item with only {left} bytes left");
        return (int)n;
    }

    private byte[] ReadBytes(int n)
    {
        if (n > _s.Length - _s.Position) throw Fail($"declares {n} bytes with only {_s.Length - _s.Position} left");
        var b = new byte[n];
        _s.ReadExactly(b);
        return b;
    }

    private string ReadLine()
    {
        var sb = new StringBuilder();
        while (true)
        {
            int b = _s.ReadByte();
            if (b < 0) throw Fail("ends inside a text line");
            if (b == '\n') break;
            if (sb.Length >= MaxLine) throw Fail("has a text line over 1 MiB");
            sb.Append((char)b);
        }
        return sb.ToString();
    }

    private object ReadLong(int n)
    {
        var bytes = ReadBytes(n);
        if (n == 0) return 0L;
        var v = new BigInteger(bytes, isUnsigned: false, isBigEndian: false);
        // Two returns, not a conditional expression: `c ? (long)v : v` has type BigInteger and would box every value
        // as one, refusing valid files where a long is expected (offsets, sizes written with LONG1).
        if (v >= long.MinValue && v <= long.MaxValue) return (long)v;
        return v;
    }

    private object ParseIntLine(string line) => line switch
    {
        "01" => true,
        "00" => false,
        _ => ParseLongLine(line),
    };

    private object ParseLongLine(string line)
    {
        var t = line.EndsWith('L') ? line[..^1] : line;
        int digits = t.StartsWith('-') || t.StartsWith('+') ? t.Length - 1 : t.Length;
        if (digits == 0 || t.AsSpan(t.Length - digits).ContainsAnyExceptInRange('0', '9'))
            throw Fail($"has a malformed integer '{Shorten(line)}'");
        if (digits > MaxIntegerDigits) throw Fail($"has an integer of {digits} digits (at most {MaxIntegerDigits})");
        if (long.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)) return l;
        if (BigInteger.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var b)) return b;
        throw Fail($"has a malformed integer '{Shorten(line)}'");
    }

    private double ParseFloatLine(string line)
    {
        // Protocol 0 writes repr(float): digits, an exponent, or inf / -inf / nan.
        switch (line.Trim())
        {
            case "inf" or "+inf": return double.PositiveInfinity;
            case "-inf": return double.NegativeInfinity;
            case "nan" or "-nan" or "+nan": return double.NaN;
        }
        if (line.Length > 0 && line.Length <= 64 && !line.AsSpan().ContainsAnyExcept("0123456789+-.eE")
            && double.TryParse(line, NumberStyles.Float, CultureInfo.InvariantCulture, out var d))
            return d;
        throw Fail($"has a malformed FLOAT '{Shorten(line)}'");
    }

    /// <summary>
    /// STRING (protocol 0): a quoted Python bytes literal decoded as <c>codecs.escape_decode</c> does (\\, \', \",
    /// \a \b \f \n \r \t \v, \ooo octal, \xhh, backslash-newline; unknown escapes are kept), then read as UTF-8
    /// (Latin-1 when the bytes are not UTF-8, as Python 2 strings often are).
    /// </summary>
    private string ParseQuotedString(string line)
    {
        if (line.Length < 2 || line[0] != line[^1] || (line[0] != '\'' && line[0] != '"'))
            throw Fail("has a STRING that is not quoted");
        var body = line.AsSpan(1, line.Length - 2);
        var bytes = new List<byte>(body.Length);
        for (int i = 0; i < body.Length; i++)
        {
            char c = body[i];
            if (c != '\\') { bytes.Add((byte)c); continue; }
            if (++i >= body.Length) throw Fail("has a STRING ending in a lone backslash");
            char e = body[i];
            switch (e)
            {
                case '\\': bytes.Add((byte)'\\'); break;
                case '\'': bytes.Add((byte)'\''); break;
                case '"': bytes.Add((byte)'"'); break;
                case 'a': bytes.Add(7); break;
                case 'b': bytes.Add(8); break;
                case 'f': bytes.Add(12); break;
                case 'n': bytes.Add(10); break;
                case 'r': bytes.Add(13); break;
                case 't': bytes.Add(9); break;
                case 'v': bytes.Add(11); break;
                case '\n': break;
                case >= '0' and <= '7':
                {
                    int v = e - '0';
                    for (int k = 0; k < 2 && i + 1 < body.Length && body[i + 1] is >= '0' and <= '7'; k++) v = v * 8 + (body[++i] - '0');
                    bytes.Add((byte)(v & 0xFF));
                    break;
                }
                case 'x':
                    if (i + 2 >= body.Length || !IsHex(body[i + 1]) || !IsHex(body[i + 2]))
                        throw Fail($"has a STRING with an invalid \\x escape at character {i}");
                    bytes.Add((byte)(HexValue(body[i + 1]) * 16 + HexValue(body[i + 2])));
                    i += 2;
                    break;
                default:
                    bytes.Add((byte)'\\');
                    bytes.Add((byte)e);
                    break;
            }
        }
        var raw = bytes.ToArray();
        return System.Text.Unicode.Utf8.IsValid(raw) ? Encoding.UTF8.GetString(raw) : Encoding.Latin1.GetString(raw);
    }

    private static bool IsHex(char c) => c is >= '0' and <= '9' or >= 'a' and <= 'f' or >= 'A' and <= 'F';

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;

    /// <summary>UNICODE (protocol 0): <c>raw-unicode-escape</c>: \uXXXX and \UXXXXXXXX escapes, every other byte Latin-1.</summary>
    private string DecodeRawUnicodeEscape(string line)
    {
        var sb = new StringBuilder(line.Length);
        for (int i = 0; i < line.Length; i++)
        {
            if (line[i] == '\\' && i + 1 < line.Length && line[i + 1] is 'u' or 'U')
            {
                // An odd run of backslashes before the u escapes; an even run is literal (raw-unicode-escape rule).
                int run = 0;
                for (int k = i - 1; k >= 0 && line[k] == '\\'; k--) run++;
                if (run % 2 == 0)
                {
                    int width = line[i + 1] == 'u' ? 4 : 8;
                    if (i + 2 + width > line.Length
                        || !uint.TryParse(line.AsSpan(i + 2, width), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var cp))
                        throw Fail($"has a UNICODE string with a truncated \\{line[i + 1]} escape at character {i}");
                    if (cp > 0x10FFFF) throw Fail($"has a UNICODE string with code point 0x{cp:x} past U+10FFFF");
                    if (cp < 0x10000) sb.Append((char)cp);
                    else sb.Append(char.ConvertFromUtf32((int)cp));
                    i += 1 + width;
                    continue;
                }
            }
            sb.Append(line[i]);
        }
        return sb.ToString();
    }

    private static string Shorten(string s) => s.Length <= 40 ? s : s[..37] + "...";

    private HArnessCheckpointException Fail(string what) => new($"Pickle in '{_file}' {what}.", _file);
}
