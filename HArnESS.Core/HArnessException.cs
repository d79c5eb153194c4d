namespace HArnESS;

/// <summary>
/// Base class of every error HArnESS raises on purpose. Messages name the file, key or argument at fault and say
/// what was expected, so a user can act on them without a debugger.
/// </summary>
public class HArnessException : Exception
{
    /// <summary>Creates the exception with a message.</summary>
    public HArnessException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and the error that caused it.</summary>
    public HArnessException(string message, Exception? innerException) : base(message, innerException) { }
}
