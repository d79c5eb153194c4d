namespace HArnESS.Data;

/// <summary>How an <see cref="AudioDataset"/> reads and checks its audio.</summary>
public sealed record AudioDatasetOptions
{
    /// <summary>The defaults: 16 kHz expected, no resampling, multi-channel files averaged to mono, no normalisation.</summary>
    public static AudioDatasetOptions Default { get; } = new();

    /// <summary>16 000 Hz: the rate HuBERT, wav2vec 2.0 and their students are trained at, and the one place the
    /// library declares it (feature framing, label rates and the dataset's default all refer to it).</summary>
    public const int DefaultSampleRate = 16_000;

    /// <summary>Sample rate every file must have (16 000 for HuBERT/wav2vec2). Files at another rate are an error naming the file unless <see cref="Resample"/> is set.</summary>
    public int SampleRate { get; init; } = DefaultSampleRate;

    /// <summary>
    /// Resample files at another rate to <see cref="SampleRate"/> instead of rejecting them. Batches are still planned
    /// from the manifest's sizes, which are then in the files' own rates.
    /// </summary>
    public bool Resample { get; init; }

    /// <summary>Average the channels of multi-channel files into one; when false such a file is an error naming it.</summary>
    public bool DownmixToMono { get; init; } = true;

    /// <summary>
    /// Normalise each utterance to zero mean and unit variance (fairseq's <c>normalize: true</c>, used by wav2vec2
    /// large / XLS-R); computed over the (cropped) samples of the item, ε = 1e-5 as in <c>F.layer_norm</c>.
    /// </summary>
    public bool Normalize { get; init; }

    /// <summary>Require the file's length to equal the manifest's <c>num_samples</c> (a stale manifest is otherwise an error naming the file). Not checked when resampling.</summary>
    public bool CheckLength { get; init; } = true;

    /// <summary>Checks the values.</summary>
    /// <exception cref="HArnessConfigException">The sample rate is not positive.</exception>
    public void Validate()
    {
        if (SampleRate <= 0)
            throw new HArnessConfigException($"SampleRate must be positive, got {SampleRate}.", nameof(SampleRate));
    }
}
