namespace HArnESS;

/// <summary>Options or a config failed validation at <c>Build()</c> or at start. Unlike a single
/// <see cref="HArnessConfigException"/> it carries every failure found, so one run of the caller's code shows all
/// that must be fixed (Polly v8's <c>ValidationException</c> style). The message lists them one per line.</summary>
public class HArnessValidationException : HArnessConfigException
{
    /// <summary>Creates the exception from the failures, each naming its option.</summary>
    /// <param name="subject">What was validated ("SpeechEncoderConfig", "config.json at 'x/'", …).</param>
    /// <param name="errors">The failures; at least one.</param>
    public HArnessValidationException(string subject, IReadOnlyList<ValidationError> errors)
        : base(Format(subject, errors), errors.Count > 0 ? errors[0].Option : null)
    {
        Subject = subject;
        Errors = errors;
    }

    /// <summary>What was validated.</summary>
    public string Subject { get; }

    /// <summary>Every failure, in the order found.</summary>
    public IReadOnlyList<ValidationError> Errors { get; }

    private static string Format(string subject, IReadOnlyList<ValidationError> errors) =>
        errors.Count == 1
            ? $"{subject} is invalid: {errors[0].Message}"
            : $"{subject} is invalid ({errors.Count} problems):" + string.Concat(errors.Select(e => "\n- " + e.Message));
}

/// <summary>One validation failure: the option at fault and what is wrong with it.</summary>
/// <param name="Option">The option, property or key at fault ("NumHeads", "ConvLayers[3]", …).</param>
/// <param name="Message">What is wrong and what was expected, naming <paramref name="Option"/>.</param>
public sealed record ValidationError(string Option, string Message);

/// <summary>Collects failures while options are checked and throws them together; see
/// <see cref="HArnessValidationException"/>.</summary>
public sealed class ValidationErrors
{
    private readonly List<ValidationError> _errors = [];

    /// <summary>The failures so far.</summary>
    public IReadOnlyList<ValidationError> Errors => _errors;

    /// <summary>True when nothing failed.</summary>
    public bool IsEmpty => _errors.Count == 0;

    /// <summary>Records a failure.</summary>
    public void Add(string option, string message) => _errors.Add(new ValidationError(option, message));

    /// <summary>Records a failure when <paramref name="condition"/> is false.</summary>
    public void Require(bool condition, string option, string message)
    {
        if (!condition) Add(option, message);
    }

    /// <summary>Adds every failure of another collector, with its option names prefixed (<c>prefix.Option</c>).</summary>
    public void AddRange(IEnumerable<ValidationError> errors, string? prefix = null)
    {
        foreach (var e in errors) _errors.Add(prefix is null ? e : e with { Option = $"{prefix}.{e.Option}" });
    }

    /// <summary>Throws <see cref="HArnessValidationException"/> when anything failed.</summary>
    /// <param name="subject">What was validated, for the message.</param>
    public void ThrowIfAny(string subject)
    {
        if (_errors.Count > 0) throw new HArnessValidationException(subject, _errors.ToArray());
    }
}
