namespace HArnESS;

/// <summary>A file is not in the format it claims (WAV, ELF, safetensors, pickle, manifest…); the message names the file and the offending field.</summary>
public class HArnessFormatException : HArnessException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong and what was expected.</param>
    /// <param name="filePath">Path of the file at fault, when there is one.</param>
    /// <param name="innerException">The underlying error, if any.</param>
    public HArnessFormatException(string message, string? filePath = null, Exception? innerException = null)
        : base(message, innerException) => FilePath = filePath;

    /// <summary>Path of the file at fault, when there is one.</summary>
    public string? FilePath { get; }
}
