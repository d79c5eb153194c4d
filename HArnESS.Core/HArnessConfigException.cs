namespace HArnESS;

/// <summary>A configuration or builder option is invalid; the message names the option and the expected range.</summary>
public class HArnessConfigException : HArnessException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong and what was expected.</param>
    /// <param name="optionName">Name of the option or argument at fault.</param>
    /// <param name="innerException">The underlying error, if any.</param>
    public HArnessConfigException(string message, string? optionName = null, Exception? innerException = null)
        : base(message, innerException) => OptionName = optionName;

    /// <summary>Name of the option or argument at fault.</summary>
    public string? OptionName { get; }
}
