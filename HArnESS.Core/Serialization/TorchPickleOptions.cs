namespace HArnESS.Serialization;

/// <summary>How permissive the restricted unpickler is. The defaults accept exactly what a state dict needs.</summary>
public sealed record TorchPickleOptions
{
    /// <summary>
    /// When true, a global outside the allow-list (say an omegaconf container in a fairseq <c>cfg</c>) becomes an
    /// inert <see cref="PickleObject"/> instead of an error. Nothing is ever executed either way; the default (false)
    /// refuses unknown globals with a <see cref="HArnessCheckpointException"/> naming them.
    /// </summary>
    public bool AllowUnknownGlobals { get; init; }

    /// <summary>Largest pickle stream read into memory, in bytes (default 256 MiB; a state-dict pickle is kilobytes).</summary>
    public long MaxPickleBytes { get; init; } = 256L << 20;

    /// <summary>
    /// Most elements a tensor that is larger than its storage may have (a view expanded with zero strides, as
    /// <c>torch.zeros(1).expand(n)</c> saves): loading materialises it, so its size is not bounded by the file. Default
    /// 16,777,216 elements (64 MiB of float32); tensors no larger than their storage are bounded by the file instead.
    /// </summary>
    public long MaxExpandedElements { get; init; } = 1L << 24;

    /// <summary>The default options.</summary>
    public static TorchPickleOptions Default { get; } = new();
}
