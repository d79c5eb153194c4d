using System.Runtime.InteropServices;
using HArnESS.Runtime;
using NUnit.Framework;

namespace HArnESS.Tests.Runtime;

/// <summary>
/// The ELF reader and patcher on tiny shared objects made by scripts/fixtures/make_elf_fixtures.sh:
/// libharnessveruse.so needs HARNESS_1.0 and HARNESS_2.0 from libharnessverdef.so; libharnessverold.so has the same
/// soname but defines HARNESS_1.0 only (the situation of TorchSharp's shim on a libstdc++ without GLIBCXX_3.4.32).
/// </summary>
public sealed class ElfVersionPatcherTests
{
    private static string Fixture(string name) => TestPaths.Fixtures("Runtime", name);

    [Test]
    public void ReadsRequirementsAndDefinitions()
    {
        var use = ElfSymbolVersions.Read(Fixture("libharnessveruse.so"));
        Assert.That(use.Required.Select(r => (r.File, r.Name, r.IsWeak)),
            Is.EquivalentTo(new[] { ("libharnessverdef.so", "HARNESS_1.0", false), ("libharnessverdef.so", "HARNESS_2.0", false) }));

        Assert.That(ElfSymbolVersions.Read(Fixture("libharnessverdef.so")).Defined, Does.Contain("HARNESS_1.0").And.Contain("HARNESS_2.0"));
        Assert.That(ElfSymbolVersions.Read(Fixture("libharnessverold.so")).Defined, Does.Contain("HARNESS_1.0").And.Not.Contain("HARNESS_2.0"));
    }

    [Test]
    public void PatchSetsOnlyTheWeakFlagOfTheNamedVersion()
    {
        var original = File.ReadAllBytes(Fixture("libharnessveruse.so"));
        var (patched, changed) = ElfVersionPatcher.MakeWeak(original, ["HARNESS_2.0"], "libharnessveruse.so");

        Assert.That(changed.Select(c => c.Name), Is.EqualTo(new[] { "HARNESS_2.0" }));
        var differing = Enumerable.Range(0, original.Length).Where(i => original[i] != patched[i]).ToList();
        // vna_flags is little-endian: VER_FLG_WEAK (0x2) lands in its low byte, and nothing else moves.
        Assert.That(differing, Is.EqualTo(new[] { (int)changed[0].FlagsOffset }));
        Assert.That(patched[(int)changed[0].FlagsOffset] & ElfSymbolVersions.VerFlagWeak, Is.EqualTo(ElfSymbolVersions.VerFlagWeak));

        var reread = ElfSymbolVersions.Parse(patched, "patched");
        Assert.That(reread.Required.Single(r => r.Name == "HARNESS_2.0").IsWeak, Is.True);
        Assert.That(reread.Required.Single(r => r.Name == "HARNESS_1.0").IsWeak, Is.False);
    }

    [Test]
    public void PatchingTwiceChangesNothingMore()
    {
        var original = File.ReadAllBytes(Fixture("libharnessveruse.so"));
        var (once, _) = ElfVersionPatcher.MakeWeak(original, ["HARNESS_2.0"], "once");
        var (twice, changed) = ElfVersionPatcher.MakeWeak(once, ["HARNESS_2.0"], "twice");
        Assert.That(changed, Is.Empty);
        Assert.That(twice, Is.EqualTo(once));
    }

    [Test]
    public void PatchedLibraryLoadsAgainstALibraryLackingTheVersion()
    {
        using var tmp = TestPaths.NewTempDirectory();
        // The old provider goes in first, by full path; the user's DT_NEEDED then resolves to it by soname.
        NativeLibrary.Load(Fixture("libharnessverold.so"));

        var unpatched = tmp.File("unpatched/libharnessveruse.so");
        Directory.CreateDirectory(Path.GetDirectoryName(unpatched)!);
        File.Copy(Fixture("libharnessveruse.so"), unpatched);
        var failure = Assert.Throws<DllNotFoundException>(() => NativeLibrary.Load(unpatched));
        Assert.That(failure!.Message, Does.Contain("HARNESS_2.0"));

        var patched = tmp.File("libharnessveruse.so");
        ElfVersionPatcher.MakeWeak(Fixture("libharnessveruse.so"), patched, ["HARNESS_2.0"]);
        var handle = NativeLibrary.Load(patched);
        var useOld = Marshal.GetDelegateForFunctionPointer<IntFunction>(NativeLibrary.GetExport(handle, "harness_use_old"));
        Assert.That(useOld(), Is.EqualTo(41));
    }

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int IntFunction();

    [Test]
    public void RefusesAFileThatIsNotElf()
    {
        using var tmp = TestPaths.NewTempDirectory();
        var path = tmp.File("not-elf.so");
        File.WriteAllText(path, new string('x', 200));
        var e = Assert.Throws<HArnessFormatException>(() => ElfSymbolVersions.Read(path));
        Assert.That(e!.Message, Does.Contain(path).And.Contain("magic"));
        Assert.That(e.FilePath, Is.EqualTo(path));
    }

    [TestCase(10, "shorter than an ELF64 header")]
    [TestCase(1000, "beyond the file")]
    public void RefusesATruncatedElf(int keep, string expected)
    {
        var bytes = File.ReadAllBytes(Fixture("libharnessveruse.so"))[..keep];
        var e = Assert.Throws<HArnessFormatException>(() => ElfSymbolVersions.Parse(bytes, "truncated.so"));
        Assert.That(e!.Message, Does.Contain("truncated.so").And.Contain(expected));
    }

    [Test]
    public void RefusesA32BitOrBigEndianElf()
    {
        var bytes = File.ReadAllBytes(Fixture("libharnessveruse.so"));
        var elf32 = (byte[])bytes.Clone();
        elf32[4] = 1;
        Assert.That(() => ElfSymbolVersions.Parse(elf32, "x.so"), Throws.TypeOf<HArnessFormatException>().With.Message.Contain("ELFCLASS64"));
        var bigEndian = (byte[])bytes.Clone();
        bigEndian[5] = 2;
        Assert.That(() => ElfSymbolVersions.Parse(bigEndian, "x.so"), Throws.TypeOf<HArnessFormatException>().With.Message.Contain("little-endian"));
    }

    [Test]
    public void RefusesASectionTableThatPointsOutsideTheFile()
    {
        var bytes = File.ReadAllBytes(Fixture("libharnessveruse.so"));
        BitConverter.TryWriteBytes(bytes.AsSpan(0x28, 8), (ulong)bytes.Length + 4096); // e_shoff
        Assert.That(() => ElfSymbolVersions.Parse(bytes, "x.so"),
            Throws.TypeOf<HArnessFormatException>().With.Message.Contain("section header 0"));
    }

    [Test]
    public void RefusesToPatchAVersionThatIsNotRequired()
    {
        var bytes = File.ReadAllBytes(Fixture("libharnessveruse.so"));
        Assert.That(() => ElfVersionPatcher.MakeWeak(bytes, ["GLIBCXX_3.4.32"], "libharnessveruse.so"),
            Throws.TypeOf<HArnessFormatException>().With.Message.Contain("GLIBCXX_3.4.32").And.Message.Contain("libharnessveruse.so"));
    }
}
