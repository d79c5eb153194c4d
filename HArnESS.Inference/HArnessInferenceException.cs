namespace HArnESS.Inference;

/// <summary>Base of every error HArnESS.Inference raises on purpose. This package does not reference HArnESS.Core
/// (which carries TorchSharp), so it has its own base type; messages follow the same rule and name the file, field
/// or input at fault with what was expected.</summary>
public class HArnessInferenceException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong and what was expected.</param>
    /// <param name="filePath">The file at fault, when there is one.</param>
    /// <param name="innerException">The underlying error, if any.</param>
    public HArnessInferenceException(string message, string? filePath = null, Exception? innerException = null)
        : base(message, innerException) => FilePath = filePath;

    /// <summary>The file at fault (model, sidecar or WAV), when there is one.</summary>
    public string? FilePath { get; }
}
