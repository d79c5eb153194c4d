namespace HArnESS.Serialization;

/// <summary>
/// An inert record of an object a pickle asked to build (an <c>argparse.Namespace</c>, a numpy scalar, or — only when
/// <see cref="TorchPickleOptions.AllowUnknownGlobals"/> is set — any other class). Nothing is constructed or called:
/// the class name, the constructor arguments and the <c>__setstate__</c> state are kept as plain data.
/// </summary>
public sealed class PickleObject
{
    /// <summary>Creates the record.</summary>
    /// <param name="module">Python module of the class or function (e.g. <c>argparse</c>).</param>
    /// <param name="name">Qualified name inside the module (e.g. <c>Namespace</c>).</param>
    /// <param name="args">Arguments the pickle passed to it.</param>
    public PickleObject(string module, string name, IReadOnlyList<object?> args)
    {
        Module = module;
        Name = name;
        Args = args;
    }

    /// <summary>Python module of the class or function.</summary>
    public string Module { get; }

    /// <summary>Qualified name inside the module.</summary>
    public string Name { get; }

    /// <summary>Arguments the pickle passed to the class or function.</summary>
    public IReadOnlyList<object?> Args { get; }

    /// <summary>State set by the pickle's BUILD opcode (for <c>argparse.Namespace</c>: a dict of its attributes).</summary>
    public object? State { get; internal set; }

    /// <summary>Items appended to the object by the pickle (list-like classes).</summary>
    public List<object?> Items { get; } = [];

    /// <summary>Key/value pairs set on the object by the pickle (dict-like classes such as omegaconf containers).</summary>
    public Dictionary<object, object?> Entries { get; } = [];

    /// <summary>Full Python name, <c>module.name</c>.</summary>
    public string FullName => Module + "." + Name;

    /// <summary>An attribute from <see cref="State"/> when it is a dict with string keys, else null.</summary>
    public object? GetAttribute(string attribute) =>
        State is Dictionary<object, object?> d && d.TryGetValue(attribute, out var v) ? v : null;

    /// <inheritdoc />
    public override string ToString() => $"<{FullName}>";
}
