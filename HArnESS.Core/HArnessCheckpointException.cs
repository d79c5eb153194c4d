namespace HArnESS;

/// <summary>A checkpoint cannot be loaded or saved: missing, unexpected or mis-shaped tensors, an unknown layout, an unsafe pickle.</summary>
public class HArnessCheckpointException : HArnessException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong and what was expected.</param>
    /// <param name="filePath">Path of the checkpoint at fault, when there is one.</param>
    /// <param name="innerException">The underlying error, if any.</param>
    public HArnessCheckpointException(string message, string? filePath = null, Exception? innerException = null)
        : base(message, innerException) => FilePath = filePath;

    /// <summary>Path of the checkpoint at fault, when there is one.</summary>
    public string? FilePath { get; }
}
