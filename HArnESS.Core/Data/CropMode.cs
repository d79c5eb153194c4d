namespace HArnESS.Data;

/// <summary>What <see cref="AudioLoader"/> does with an utterance longer than <see cref="AudioLoaderOptions.MaxSampleSize"/>.</summary>
public enum CropMode
{
    /// <summary>Keep a window of the maximum length at a random offset (seeded by seed, epoch and item: repeatable), as fairseq's random crop.</summary>
    Random,

    /// <summary>Keep the first samples (a fixed crop; for evaluation).</summary>
    Start,

    /// <summary>Leave the utterance out (it is counted in <see cref="AudioLoader.Dropped"/>).</summary>
    Drop,
}
