namespace HArnESS.Downstream.Data;

/// <summary>How <see cref="SpeechCommandsCorpus"/> reads the Speech Commands layout (Warden 2018) and builds the
/// usual 12-class task: the keywords, "_unknown_" for every other word, "_silence_" clips cut from
/// <c>_background_noise_</c>, as TensorFlow's <c>speech_commands</c> example does.</summary>
public sealed record SpeechCommandsOptions
{
    /// <summary>The classes kept as themselves; every other word folder becomes <see cref="UnknownLabel"/>. Default
    /// the 10 of the 12-class benchmark. Null = every word folder is its own class (the 35-class task) and there is
    /// no unknown class.</summary>
    public IReadOnlyList<string>? Keywords { get; init; } = ["yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"];

    /// <summary>Label of non-keyword words. Default <c>_unknown_</c>.</summary>
    public string UnknownLabel { get; init; } = "_unknown_";

    /// <summary>Label of background-noise clips. Default <c>_silence_</c>.</summary>
    public string SilenceLabel { get; init; } = "_silence_";

    /// <summary>Silence clips per split, as a percentage of the split's keyword items (TF's
    /// <c>silence_percentage</c>), rounded up; 0 = no silence class. Default 10.</summary>
    public double SilencePercentage { get; init; } = 10;

    /// <summary>Unknown items kept per split, as a percentage of the split's keyword items (TF's
    /// <c>unknown_percentage</c>), drawn with <see cref="Seed"/>; null = keep every unknown item. Default 10.</summary>
    public double? UnknownPercentage { get; init; } = 10;

    /// <summary>Length of a silence clip in samples. Default 16000 (1 s at 16 kHz).</summary>
    public int ClipSamples { get; init; } = 16000;

    /// <summary>Seed of the unknown-item draw and the silence offsets. Default 59185 (TF's).</summary>
    public int Seed { get; init; } = 59185;

    /// <summary>Checks every value at once.</summary>
    /// <exception cref="HArnessValidationException">Values are out of range; every problem is listed.</exception>
    public void Validate()
    {
        var e = new ValidationErrors();
        e.Require(Keywords is null || Keywords.Count > 0, nameof(Keywords), $"{nameof(Keywords)} must be null or non-empty.");
        e.Require(Keywords is null || Keywords.Distinct(StringComparer.Ordinal).Count() == Keywords.Count, nameof(Keywords), $"{nameof(Keywords)} holds a duplicate.");
        e.Require(!string.IsNullOrWhiteSpace(UnknownLabel), nameof(UnknownLabel), $"{nameof(UnknownLabel)} must not be empty.");
        e.Require(!string.IsNullOrWhiteSpace(SilenceLabel), nameof(SilenceLabel), $"{nameof(SilenceLabel)} must not be empty.");
        e.Require(SilencePercentage is >= 0 and <= 1000, nameof(SilencePercentage), $"{nameof(SilencePercentage)} must be in [0, 1000], got {SilencePercentage}.");
        e.Require(UnknownPercentage is null or (>= 0 and <= 1000), nameof(UnknownPercentage), $"{nameof(UnknownPercentage)} must be null or in [0, 1000], got {UnknownPercentage}.");
        e.Require(ClipSamples > 0, nameof(ClipSamples), $"{nameof(ClipSamples)} must be positive, got {ClipSamples}.");
        e.ThrowIfAny(nameof(SpeechCommandsOptions));
    }
}
