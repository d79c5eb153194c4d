namespace HArnESS.Data;

/// <summary>An utterance <see cref="AudioLoader"/> left out, and why.</summary>
/// <param name="Index">Entry index in the manifest.</param>
/// <param name="Path">Absolute path of the audio file.</param>
/// <param name="Reason">Why it was left out.</param>
/// <param name="Message">Details (the read error for <see cref="DropReason.Unreadable"/>, the sizes otherwise).</param>
public sealed record DroppedItem(int Index, string Path, DropReason Reason, string Message);
