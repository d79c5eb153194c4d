namespace HArnESS.Inference;

/// <summary>A file is not what it claims to be: a WAV that is not RIFF/WAVE PCM or float, a sidecar that is not
/// HArnESS's JSON, or a model whose inputs or outputs disagree with its sidecar. The message names the file and the
/// field, offset or name at fault, expected vs found.</summary>
public class HArnessInferenceFormatException : HArnessInferenceException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong and what was expected.</param>
    /// <param name="filePath">The file at fault.</param>
    /// <param name="innerException">The underlying error, if any.</param>
    public HArnessInferenceFormatException(string message, string? filePath, Exception? innerException = null)
        : base(message, filePath, innerException) { }
}
