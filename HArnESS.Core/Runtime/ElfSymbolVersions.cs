using System.Buffers.Binary;
using System.Text;

namespace HArnESS.Runtime;

/// <summary>One version requirement (<c>Vernaux</c>) of an ELF shared object: "from <see cref="File"/> I need <see cref="Name"/>".</summary>
/// <param name="File">The library the version is required from (e.g. <c>libstdc++.so.6</c>).</param>
/// <param name="Name">The version name (e.g. <c>GLIBCXX_3.4.32</c>).</param>
/// <param name="Flags">The <c>vna_flags</c> field; bit 0x2 (<see cref="ElfSymbolVersions.VerFlagWeak"/>) makes it weak.</param>
/// <param name="FlagsOffset">Byte offset of <c>vna_flags</c> in the file (where a patch writes).</param>
public sealed record ElfVersionRequirement(string File, string Name, ushort Flags, long FlagsOffset)
{
    /// <summary>True when the dynamic linker only warns if the version is missing.</summary>
    public bool IsWeak => (Flags & ElfSymbolVersions.VerFlagWeak) != 0;
}

/// <summary>
/// Reads the GNU symbol-versioning sections of a 64-bit little-endian ELF file: the versions it requires
/// (<c>.gnu.version_r</c>) and the versions it defines (<c>.gnu.version_d</c>). Every offset is checked against the
/// buffer, so a truncated or hostile file is refused with <see cref="HArnessFormatException"/>, never an
/// out-of-range read.
/// </summary>
public sealed class ElfSymbolVersions
{
    /// <summary>The <c>VER_FLG_WEAK</c> bit of <c>vna_flags</c>.</summary>
    public const ushort VerFlagWeak = 0x2;

    private const uint ShtGnuVerdef = 0x6ffffffd;
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const int MaxEntries = 1 << 16;

    private ElfSymbolVersions(IReadOnlyList<ElfVersionRequirement> required, IReadOnlyList<string> defined)
    {
        Required = required;
        Defined = defined;
    }

    /// <summary>Every version requirement, in file order.</summary>
    public IReadOnlyList<ElfVersionRequirement> Required { get; }

    /// <summary>Every version name the file defines (e.g. the <c>GLIBCXX_*</c> list of libstdc++).</summary>
    public IReadOnlyList<string> Defined { get; }

    /// <summary>Reads the version sections of the ELF file at <paramref name="path"/>.</summary>
    /// <exception cref="HArnessFormatException">The file is not a 64-bit little-endian ELF or is malformed.</exception>
    public static ElfSymbolVersions Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new HArnessFormatException($"Cannot read ELF file '{path}': {e.Message}", path, e);
        }
        return Parse(bytes, path);
    }

    /// <summary>Parses the version sections of an ELF image held in memory.</summary>
    /// <param name="image">The whole file.</param>
    /// <param name="name">Name used in error messages (usually the path).</param>
    public static ElfSymbolVersions Parse(ReadOnlySpan<byte> image, string name)
    {
        var reader = new Reader(image, name);
        var sections = reader.ReadSectionHeaders();
        var required = new List<ElfVersionRequirement>();
        var defined = new List<string>();
        foreach (var s in sections)
        {
            if (s.Type == ShtGnuVerneed)
                reader.ReadVerneed(s, sections, required);
            else if (s.Type == ShtGnuVerdef)
                reader.ReadVerdef(s, sections, defined);
        }
        return new ElfSymbolVersions(required, defined);
    }

    internal readonly record struct Section(uint Type, long Offset, long Size, uint Link, uint Info);

    private readonly ref struct Reader(ReadOnlySpan<byte> image, string name)
    {
        private readonly ReadOnlySpan<byte> _b = image;

        private HArnessFormatException Bad(string what) =>
            new($"'{name}' is not a valid ELF file: {what}.", name);

        private ReadOnlySpan<byte> Slice(long offset, long length, string what)
        {
            if (offset < 0 || length < 0 || offset > _b.Length || length > _b.Length - offset)
                throw Bad($"{what} at offset {offset} (+{length} bytes) lies beyond the file's {_b.Length} bytes");
            return _b.Slice((int)offset, (int)length);
        }

        private ushort U16(long o, string what) => BinaryPrimitives.ReadUInt16LittleEndian(Slice(o, 2, what));
        private uint U32(long o, string what) => BinaryPrimitives.ReadUInt32LittleEndian(Slice(o, 4, what));
        private long I64(long o, string what)
        {
            var v = BinaryPrimitives.ReadUInt64LittleEndian(Slice(o, 8, what));
            if (v > long.MaxValue) throw Bad($"{what} is {v}, beyond any file size");
            return (long)v;
        }

        public List<Section> ReadSectionHeaders()
        {
            if (_b.Length < 64) throw Bad($"only {_b.Length} bytes, shorter than an ELF64 header");
            if (_b[0] != 0x7f || _b[1] != (byte)'E' || _b[2] != (byte)'L' || _b[3] != (byte)'F')
                throw Bad("the magic number 7F 45 4C 46 is missing");
            if (_b[4] != 2) throw Bad($"class {_b[4]} is not ELFCLASS64 (2); only 64-bit objects are supported");
            if (_b[5] != 1) throw Bad($"data encoding {_b[5]} is not little-endian (1)");
            long shoff = I64(0x28, "e_shoff");
            int shentsize = U16(0x3A, "e_shentsize");
            int shnum = U16(0x3C, "e_shnum");
            if (shnum == 0) throw Bad("it has no section headers");
            if (shentsize < 64) throw Bad($"e_shentsize {shentsize} is smaller than 64");
            var sections = new List<Section>(shnum);
            for (int i = 0; i < shnum; i++)
            {
                long h = shoff + (long)i * shentsize;
                Slice(h, 64, $"section header {i}");
                sections.Add(new Section(
                    Type: U32(h + 4, "sh_type"),
                    Offset: I64(h + 24, "sh_offset"),
                    Size: I64(h + 32, "sh_size"),
                    Link: U32(h + 40, "sh_link"),
                    Info: U32(h + 44, "sh_info")));
            }
            return sections;
        }

        private string Str(List<Section> sections, uint strtab, uint index, string what)
        {
            if (strtab >= sections.Count) throw Bad($"{what} links to section {strtab}, beyond the {sections.Count} sections");
            var s = sections[(int)strtab];
            var table = Slice(s.Offset, s.Size, $"string table of {what}");
            if (index >= table.Length) throw Bad($"{what} name index {index} is beyond its string table ({table.Length} bytes)");
            var rest = table[(int)index..];
            int end = rest.IndexOf((byte)0);
            if (end < 0) throw Bad($"{what} name at index {index} is not NUL-terminated");
            return Encoding.UTF8.GetString(rest[..end]);
        }

        public void ReadVerneed(Section s, List<Section> sections, List<ElfVersionRequirement> output)
        {
            Slice(s.Offset, s.Size, ".gnu.version_r");
            long entry = s.Offset;
            for (uint i = 0; i < s.Info; i++)
            {
                if (i >= MaxEntries) throw Bad(".gnu.version_r has too many entries");
                int cnt = U16(entry + 2, "vn_cnt");
                string file = Str(sections, s.Link, U32(entry + 4, "vn_file"), "Verneed");
                long aux = entry + U32(entry + 8, "vn_aux");
                for (int j = 0; j < cnt; j++)
                {
                    ushort flags = U16(aux + 4, "vna_flags");
                    string version = Str(sections, s.Link, U32(aux + 8, "vna_name"), "Vernaux");
                    output.Add(new ElfVersionRequirement(file, version, flags, aux + 4));
                    uint next = U32(aux + 12, "vna_next");
                    if (next == 0) break;
                    aux += next;
                }
                uint vnNext = U32(entry + 12, "vn_next");
                if (vnNext == 0) break;
                entry += vnNext;
            }
        }

        public void ReadVerdef(Section s, List<Section> sections, List<string> output)
        {
            Slice(s.Offset, s.Size, ".gnu.version_d");
            long entry = s.Offset;
            for (uint i = 0; i < s.Info; i++)
            {
                if (i >= MaxEntries) throw Bad(".gnu.version_d has too many entries");
                long aux = entry + U32(entry + 12, "vd_aux");
                // The first Verdaux names the version itself; later ones name its parents.
                output.Add(Str(sections, s.Link, U32(aux, "vda_name"), "Verdef"));
                uint next = U32(entry + 16, "vd_next");
                if (next == 0) break;
                entry += next;
            }
        }
    }
}
