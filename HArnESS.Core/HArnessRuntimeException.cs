namespace HArnESS;

/// <summary>The native TorchSharp/libtorch runtime cannot be started; the message names the library, folder or version at fault.</summary>
public class HArnessRuntimeException : HArnessException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong and what was expected.</param>
    /// <param name="filePath">Path of the native library or folder at fault, when there is one.</param>
    /// <param name="innerException">The underlying error, if any.</param>
    public HArnessRuntimeException(string message, string? filePath = null, Exception? innerException = null)
        : base(message, innerException) => FilePath = filePath;

    /// <summary>Path of the native library or folder at fault, when there is one.</summary>
    public string? FilePath { get; }
}
