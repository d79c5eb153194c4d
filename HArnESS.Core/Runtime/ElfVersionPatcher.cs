namespace HArnESS.Runtime;

/// <summary>
/// Marks chosen version requirements of an ELF shared object weak (<c>VER_FLG_WEAK</c>), so the dynamic linker
/// loads it against a library that lacks those versions. Only the two-byte <c>vna_flags</c> fields of the named
/// requirements change; every other byte is copied as it is.
/// </summary>
/// <remarks>
/// This is how HArnESS starts TorchSharp 0.107 on Debian 12 / Ubuntu 22.04: its <c>libLibTorchSharp.so</c> requires
/// <c>GLIBCXX_3.4.32</c> for the single symbol <c>std::ios_base_library_init</c>, which it never calls.
/// Weakening a requirement whose symbols <em>are</em> called would fail later at symbol lookup, which is why callers
/// restrict this to a known list.
/// </remarks>
public static class ElfVersionPatcher
{
    /// <summary>
    /// Returns a copy of <paramref name="image"/> in which every requirement of a version in
    /// <paramref name="versions"/> (from any library) carries <c>VER_FLG_WEAK</c>.
    /// </summary>
    /// <param name="image">The whole ELF file.</param>
    /// <param name="versions">Version names to weaken, e.g. <c>GLIBCXX_3.4.32</c>.</param>
    /// <param name="name">Name used in error messages (usually the path).</param>
    /// <returns>The patched image and the requirements that were changed (already weak ones are not listed).</returns>
    /// <exception cref="HArnessFormatException">The image is not a valid ELF64 file, or requires none of <paramref name="versions"/>.</exception>
    public static (byte[] Image, IReadOnlyList<ElfVersionRequirement> Changed) MakeWeak(
        ReadOnlySpan<byte> image, IReadOnlyCollection<string> versions, string name)
    {
        ArgumentNullException.ThrowIfNull(versions);
        if (versions.Count == 0) throw new ArgumentException("At least one version name is needed.", nameof(versions));
        var parsed = ElfSymbolVersions.Parse(image, name);
        var targets = parsed.Required.Where(r => versions.Contains(r.Name)).ToList();
        if (targets.Count == 0)
            throw new HArnessFormatException(
                $"'{name}' requires none of the versions {string.Join(", ", versions)}; nothing to patch.", name);

        var output = image.ToArray();
        var changed = new List<ElfVersionRequirement>();
        foreach (var r in targets.Where(r => !r.IsWeak))
        {
            ushort flags = (ushort)(r.Flags | ElfSymbolVersions.VerFlagWeak);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(output.AsSpan((int)r.FlagsOffset, 2), flags);
            changed.Add(r with { Flags = flags });
        }
        return (output, changed);
    }

    /// <summary>Patches the file at <paramref name="sourcePath"/> into <paramref name="destinationPath"/> (see <see cref="MakeWeak(ReadOnlySpan{byte}, IReadOnlyCollection{string}, string)"/>).</summary>
    /// <returns>The requirements that were changed.</returns>
    public static IReadOnlyList<ElfVersionRequirement> MakeWeak(string sourcePath, string destinationPath, IReadOnlyCollection<string> versions)
    {
        var (image, changed) = MakeWeak(File.ReadAllBytes(sourcePath), versions, sourcePath);
        File.WriteAllBytes(destinationPath, image);
        return changed;
    }
}
