using System.Runtime.InteropServices;
using Google.Protobuf;
using HArnESS.Export.Onnx;

namespace HArnESS.Export.Graph;

/// <summary>Builds one ONNX graph: initializers (raw little-endian data), nodes with unique generated names, graph
/// inputs/outputs with symbolic (<c>batch</c>, <c>time</c>) or fixed dims, and the model around it (opset 17 and,
/// when used, the <c>com.microsoft</c> contrib domain). Each helper returns the name of the value it produced, so
/// exporters read like the forward pass they mirror.</summary>
internal sealed class OnnxGraphBuilder
{
    /// <summary>Default-domain opset written into the model (17: first with LayerNormalization).</summary>
    public const int Opset = 17;

    /// <summary>IR version that goes with opset 17.</summary>
    public const long IrVersion = 8;

    private readonly GraphProto _graph = new() { Name = "harness_encoder" };
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _constants = new(StringComparer.Ordinal);
    private int _counter;
    private bool _usesContrib;

    /// <summary>Bytes held by initializers so far.</summary>
    public long InitializerBytes { get; private set; }

    /// <summary>A fresh value name starting with <paramref name="hint"/>.</summary>
    public string Fresh(string hint)
    {
        var name = hint;
        while (!_names.Add(name)) name = $"{hint}_{++_counter}";
        return name;
    }

    /// <summary>Adds a float initializer named after <c>name</c> (made unique) and returns its name.</summary>
    public string Initializer(string name, ReadOnlySpan<float> data, params long[] dims) =>
        AddInitializer(name, TensorProto.Types.DataType.Float, MemoryMarshal.AsBytes(data), dims, data.Length);

    /// <summary>Adds an int64 initializer.</summary>
    public string Initializer(string name, ReadOnlySpan<long> data, params long[] dims) =>
        AddInitializer(name, TensorProto.Types.DataType.Int64, MemoryMarshal.AsBytes(data), dims, data.Length);

    /// <summary>Adds an int8 initializer.</summary>
    public string Initializer(string name, ReadOnlySpan<sbyte> data, params long[] dims) =>
        AddInitializer(name, TensorProto.Types.DataType.Int8, MemoryMarshal.AsBytes(data), dims, data.Length);

    /// <summary>A shared scalar float constant.</summary>
    public string Scalar(float value) => Cached($"f:{BitConverter.SingleToInt32Bits(value)}", () => Initializer("const_f", [value]));

    /// <summary>A shared 1-D int64 constant.</summary>
    public string Ints(params long[] values) => Cached($"i:{string.Join(',', values)}", () => Initializer("const_i", values, values.Length));

    /// <summary>A shared scalar (0-D) int64 constant.</summary>
    public string IntScalar(long value) => Cached($"is:{value}", () => Initializer("const_is", [value]));

    /// <summary>Adds a node and returns its outputs.</summary>
    /// <param name="op">Operator type.</param>
    /// <param name="inputs">Input value names ("" for an omitted optional input).</param>
    /// <param name="outputs">How many outputs, or the names to give them.</param>
    /// <param name="attributes">Attributes.</param>
    /// <param name="domain">Operator domain ("" = ai.onnx, "com.microsoft" = ORT contrib).</param>
    public string[] NodeN(string op, string[] inputs, string[] outputs, IEnumerable<AttributeProto>? attributes = null, string domain = "")
    {
        var node = new NodeProto { OpType = op, Name = Fresh("n_" + op), Domain = domain };
        node.Input.Add(inputs);
        node.Output.Add(outputs);
        if (attributes is not null) node.Attribute.Add(attributes);
        if (domain == "com.microsoft") _usesContrib = true;
        _graph.Node.Add(node);
        return outputs;
    }

    /// <summary>Adds a single-output node; the output gets a fresh name from <paramref name="hint"/> (or the op).</summary>
    public string Node(string op, string[] inputs, IEnumerable<AttributeProto>? attributes = null, string? hint = null, string domain = "") =>
        NodeN(op, inputs, [Fresh(hint ?? op.ToLowerInvariant())], attributes, domain)[0];

    /// <summary>Declares a graph input.</summary>
    public void Input(string name, TensorProto.Types.DataType type, params object[] dims)
    {
        _names.Add(name);
        _graph.Input.Add(ValueInfo(name, type, dims));
    }

    /// <summary>Declares a graph output under <paramref name="name"/>, renaming <paramref name="value"/> through an Identity.</summary>
    public void Output(string name, string value, TensorProto.Types.DataType type, params object[] dims)
    {
        if (value != name) NodeN("Identity", [value], [Fresh(name) == name ? name : throw new InvalidOperationException($"Output name {name} is taken.")]);
        _graph.Output.Add(ValueInfo(name, type, dims));
    }

    /// <summary>The finished model.</summary>
    public ModelProto Build(string producerVersion, IReadOnlyDictionary<string, string> metadata)
    {
        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "HArnESS.Export",
            ProducerVersion = producerVersion,
            Graph = _graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        if (_usesContrib) model.OpsetImport.Add(new OperatorSetIdProto { Domain = "com.microsoft", Version = 1 });
        foreach (var (k, v) in metadata) model.MetadataProps.Add(new StringStringEntryProto { Key = k, Value = v });
        return model;
    }

    // ---- attribute helpers ----

    /// <summary>An int attribute.</summary>
    public static AttributeProto Attr(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    /// <summary>A float attribute.</summary>
    public static AttributeProto Attr(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    /// <summary>An ints attribute.</summary>
    public static AttributeProto Attr(string name, long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.Add(values);
        return a;
    }

    // ---- op helpers (the forward-pass vocabulary of the exporters) ----

    public string Add(string a, string b) => Node("Add", [a, b]);
    public string Sub(string a, string b) => Node("Sub", [a, b]);
    public string Mul(string a, string b) => Node("Mul", [a, b]);
    public string Div(string a, string b) => Node("Div", [a, b]);
    public string MatMul(string a, string b) => Node("MatMul", [a, b]);
    public string Transpose(string x, params long[] perm) => Node("Transpose", [x], [Attr("perm", perm)]);
    public string Reshape(string x, params long[] shape) => Node("Reshape", [x, Ints(shape)]);
    public string Unsqueeze(string x, params long[] axes) => Node("Unsqueeze", [x, Ints(axes)]);
    public string Cast(string x, TensorProto.Types.DataType to) => Node("Cast", [x], [Attr("to", (long)to)]);
    public string Where(string cond, string a, string b) => Node("Where", [cond, a, b]);

    /// <summary>Exact (erf) GELU, as <c>torch.nn.functional.gelu</c>: <c>0.5·x·(1 + erf(x/√2))</c>.</summary>
    public string Gelu(string x)
    {
        var e = Node("Erf", [Mul(x, Scalar((float)(1.0 / Math.Sqrt(2.0))))]);
        return Mul(Mul(x, Scalar(0.5f)), Add(e, Scalar(1f)));
    }

    /// <summary>LayerNormalization over the last axis.</summary>
    public string LayerNorm(string x, string scale, string bias, double eps) =>
        Node("LayerNormalization", [x, scale, bias], [Attr("axis", -1L), Attr("epsilon", (float)eps)], "ln");

    /// <summary>Element <paramref name="index"/> of <c>Shape(x)</c> as a 1-D int64 of one element.</summary>
    public string Dim(string x, long index) => Node("Gather", [Node("Shape", [x]), Ints(index)], [Attr("axis", 0L)], "dim");

    private string Cached(string key, Func<string> make)
    {
        if (_constants.TryGetValue(key, out var name)) return name;
        name = make();
        _constants[key] = name;
        return name;
    }

    private string AddInitializer(string name, TensorProto.Types.DataType type, ReadOnlySpan<byte> bytes, long[] dims, int count)
    {
        long expected = 1;
        foreach (var d in dims) expected *= d;
        if (expected != count) throw new InvalidOperationException($"Initializer {name}: {count} values for shape [{string.Join(", ", dims)}].");
        name = Fresh(name);
        var t = new TensorProto { Name = name, DataType = (int)type, RawData = ByteString.CopyFrom(bytes) };
        t.Dims.Add(dims);
        _graph.Initializer.Add(t);
        InitializerBytes += bytes.Length;
        return name;
    }

    private static ValueInfoProto ValueInfo(string name, TensorProto.Types.DataType type, object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
        {
            shape.Dim.Add(d switch
            {
                string s => new TensorShapeProto.Types.Dimension { DimParam = s },
                int i => new TensorShapeProto.Types.Dimension { DimValue = i },
                long l => new TensorShapeProto.Types.Dimension { DimValue = l },
                _ => throw new ArgumentException($"Dim {d} is neither a name nor a size.", nameof(dims)),
            });
        }
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }
}
