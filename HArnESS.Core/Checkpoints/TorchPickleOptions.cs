namespace HArnESS.Checkpoints;

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

    /// <summary>The default options.</summary>
    public static TorchPickleOptions Default { get; } = new();
}
