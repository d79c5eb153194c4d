namespace HArnESS.Inference;

/// <summary>Audio is not at the sample rate the model was exported for. Resampling is out of scope of this package:
/// resample first (e.g. with HArnESS.Core's <c>AudioResample</c> or sox).</summary>
public class HArnessSampleRateException : HArnessInferenceException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="expected">The model's rate in Hz.</param>
    /// <param name="actual">The audio's rate in Hz.</param>
    /// <param name="filePath">The WAV file, when the audio came from one.</param>
    public HArnessSampleRateException(int expected, int actual, string? filePath = null)
        : base($"{(filePath is null ? "The audio" : $"'{filePath}'")} is at {actual} Hz; the model expects {expected} Hz. Resample it first (this package does not resample).", filePath)
    {
        ExpectedSampleRate = expected;
        ActualSampleRate = actual;
    }

    /// <summary>The model's rate in Hz.</summary>
    public int ExpectedSampleRate { get; }

    /// <summary>The audio's rate in Hz.</summary>
    public int ActualSampleRate { get; }
}
