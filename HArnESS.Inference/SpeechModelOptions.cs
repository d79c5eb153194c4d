namespace HArnESS.Inference;

/// <summary>How <see cref="SpeechModel"/> runs. Defaults: ONNX Runtime's thread count, full graph optimisation, every
/// hidden state returned.</summary>
public sealed record SpeechModelOptions
{
    /// <summary>Threads inside one operator; 0 (default) lets ONNX Runtime choose (one per physical core).</summary>
    public int IntraOpNumThreads { get; init; }

    /// <summary>Return hidden states (true, default); false fetches only frame lengths and head outputs, which saves
    /// copying when only task outputs are wanted.</summary>
    public bool ReturnHiddenStates { get; init; } = true;

    /// <summary>Checks the values.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public void Validate()
    {
        if (IntraOpNumThreads < 0)
            throw new ArgumentOutOfRangeException(nameof(IntraOpNumThreads), IntraOpNumThreads, "Must be >= 0 (0 = ONNX Runtime's choice).");
    }
}
