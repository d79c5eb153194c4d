namespace HArnESS;

/// <summary>Data is unusable: a missing or unreadable corpus file, NaN features, a missing shard, too few frames.</summary>
public class HArnessDataException : HArnessException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong and what was expected.</param>
    /// <param name="filePath">Path of the file at fault, when there is one.</param>
    /// <param name="innerException">The underlying error, if any.</param>
    public HArnessDataException(string message, string? filePath = null, Exception? innerException = null)
        : base(message, innerException) => FilePath = filePath;

    /// <summary>Path of the file at fault, when there is one.</summary>
    public string? FilePath { get; }
}
