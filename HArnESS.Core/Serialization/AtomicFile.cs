namespace HArnESS.Serialization;

/// <summary>The one way HArnESS writes a file that others read: into a temporary file in the target's own folder,
/// flushed to disk (<c>fsync</c>), then renamed over the target. A reader, a second process or a run killed half-way
/// sees either the old file or the whole new one, never a torn one.</summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> through <paramref name="write"/>, then publishes it atomically.</summary>
    /// <param name="path">The file to create or replace; its folder is created when missing.</param>
    /// <param name="write">Writes the whole content into the stream it is given (seekable, read/write).</param>
    /// <param name="overwrite">False keeps an existing target (another process won the race with the same content)
    /// and discards this write; true replaces it.</param>
    /// <returns>True when this call published the file; false when <paramref name="overwrite"/> is false and the
    /// target already existed.</returns>
    /// <exception cref="IOException">The folder cannot be written; the message names the file.</exception>
    public static bool Write(string path, Action<Stream> write, bool overwrite = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        var tmp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16))
            {
                write(fs);
                fs.Flush(flushToDisk: true);
            }
            try
            {
                File.Move(tmp, full, overwrite);
            }
            catch (IOException) when (!overwrite && File.Exists(full))
            {
                return false;
            }
            return true;
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }

    /// <summary>Writes UTF-8 text (no byte-order mark) atomically.</summary>
    public static void WriteAllText(string path, string text) =>
        Write(path, s => s.Write(new System.Text.UTF8Encoding(false).GetBytes(text)));

    /// <summary>Writes bytes atomically.</summary>
    public static bool WriteAllBytes(string path, ReadOnlySpan<byte> bytes, bool overwrite = true)
    {
        var copy = bytes.ToArray();
        return Write(path, s => s.Write(copy), overwrite);
    }

    /// <summary>Writes lines joined by <c>\n</c> (each one ended by it) atomically.</summary>
    public static void WriteAllLines(string path, IEnumerable<string> lines) =>
        Write(path, s =>
        {
            using var w = new StreamWriter(s, new System.Text.UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
            foreach (var line in lines) w.WriteLine(line);
        });
}
