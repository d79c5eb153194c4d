namespace HArnESS.Data;

/// <summary>Why <see cref="AudioLoader"/> left an utterance out.</summary>
public enum DropReason
{
    /// <summary>Shorter than <see cref="AudioLoaderOptions.MinSampleSize"/>.</summary>
    TooShort,

    /// <summary>Longer than <see cref="AudioLoaderOptions.MaxSampleSize"/> with <see cref="CropMode.Drop"/>.</summary>
    TooLong,

    /// <summary>Missing or unreadable with <see cref="AudioLoaderOptions.SkipUnreadable"/> set.</summary>
    Unreadable,
}
