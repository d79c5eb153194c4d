using HArnESS.Audio;
using HArnESS.Data;
using NUnit.Framework;

namespace HArnESS.Tests.Data;

[TestFixture]
public sealed class ManifestTests
{
    private string _dir = "";

    [SetUp]
    public void CreateDir()
    {
        _dir = Path.Combine(Path.GetTempPath(), "harness-manifest-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [TearDown]
    public void DeleteDir() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    [Test]
    public void Load_RelativeRoot_IsResolvedAgainstTheTsvFolder_NotTheWorkingDirectory()
    {
        var tsv = Write("lists/train.tsv", "../audio\na/x.wav\t16000\nb/y.wav\t800\n");
        var m = Manifest.Load(tsv);
        Assert.That(m.Root, Is.EqualTo(Path.Combine(_dir, "audio")));
        Assert.That(m.Entries, Is.EqualTo(new[] { new ManifestEntry("a/x.wav", 16000), new ManifestEntry("b/y.wav", 800) }));
        Assert.That(m.GetFullPath(1), Is.EqualTo(Path.Combine(_dir, "audio", "b", "y.wav")));
        Assert.That(m.TotalSamples, Is.EqualTo(16800));
        Assert.That(m.SourcePath, Is.EqualTo(tsv));
    }

    [Test]
    public void Load_AbsoluteRoot_IsKept()
    {
        var root = Path.Combine(_dir, "elsewhere");
        var tsv = Write("train.tsv", $"{root}\r\nx.wav\t5\r\n");
        var m = Manifest.Load(tsv);
        Assert.That(m.Root, Is.EqualTo(root));
        Assert.That(m.GetFullPath(0), Is.EqualTo(Path.Combine(root, "x.wav")));
        Assert.That(m.Entries[0].NumSamples, Is.EqualTo(5));
    }

    [Test]
    public void Load_BlankLinesAtTheEnd_AreIgnored()
    {
        var m = Manifest.Load(Write("t.tsv", ".\na.wav\t3\n\n  \n"));
        Assert.That(m.Entries, Is.EqualTo(new[] { new ManifestEntry("a.wav", 3) }));
        Assert.That(Manifest.Load(Write("empty.tsv", ".\n")).Count, Is.Zero);
    }

    [TestCase(false)]
    [TestCase(true)]
    public void SaveThenLoad_RoundTrips(bool absoluteRoot)
    {
        var root = Path.Combine(_dir, "corpus");
        var m = new Manifest(root, [new ManifestEntry("s1/a.wav", 12345), new ManifestEntry("s2/b c.wav", 0)]);
        var tsv = Path.Combine(_dir, "manifests", "valid.tsv");
        m.Save(tsv, absoluteRoot);
        var firstLine = File.ReadLines(tsv).First();
        Assert.That(firstLine, Is.EqualTo(absoluteRoot ? root : Path.Combine("..", "corpus")));
        var back = Manifest.Load(tsv);
        Assert.That(back.Root, Is.EqualTo(m.Root));
        Assert.That(back.Entries, Is.EqualTo(m.Entries));
        Assert.That(File.ReadAllText(tsv), Does.EndWith("s2/b c.wav\t0\n"));
    }

    [TestCase("root\nok.wav\t10\nno-tab-here\n", 3, "found 1 tab-separated field")]
    [TestCase("root\na.wav\t10\tspk\n", 2, "found 3 tab-separated field")]
    [TestCase("root\na.wav\tten\n", 2, "num_samples must be a non-negative integer, found 'ten'")]
    [TestCase("root\na.wav\t-5\n", 2, "found '-5'")]
    [TestCase("root\na.wav\t10\n\nb.wav\t3\n", 3, "found 1 tab-separated field")]
    [TestCase("root\n\t10\n", 2, "the path is empty")]
    [TestCase("", 1, "expected the root folder, found an empty file")]
    [TestCase("\na.wav\t1\n", 1, "expected the root folder, found an empty line")]
    public void Load_BadLine_NamesFileAndLine(string text, int line, string what)
    {
        var tsv = Write("bad.tsv", text);
        var ex = Assert.Throws<HArnessFormatException>(() => Manifest.Load(tsv))!;
        Assert.That(ex.FilePath, Is.EqualTo(tsv));
        Assert.That(ex.Message, Does.Contain($"'{tsv}' line {line}:"));
        Assert.That(ex.Message, Does.Contain(what));
    }

    [Test]
    public void Load_MissingFile_IsADataErrorNamingIt()
    {
        var tsv = Path.Combine(_dir, "nope.tsv");
        var ex = Assert.Throws<HArnessDataException>(() => Manifest.Load(tsv))!;
        Assert.That(ex.FilePath, Is.EqualTo(tsv));
        Assert.That(ex.Message, Does.Contain(tsv));
    }

    [Test]
    public void Save_PathWithTab_IsRejected()
    {
        var m = new Manifest(_dir, [new ManifestEntry("a\tb.wav", 1)]);
        Assert.Throws<HArnessConfigException>(() => m.Save(Path.Combine(_dir, "x.tsv")));
    }

    [Test]
    public void FromFolder_ReadsSizesFromHeaders_SortedWithSlashPaths()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "b"));
        WavWriter.Write(Path.Combine(_dir, "b", "two.wav"), new AudioClip(new float[300], 16000));
        WavWriter.Write(Path.Combine(_dir, "a.WAV"), new AudioClip(new float[2 * 150], 8000, channels: 2));
        WavWriter.Write(Path.Combine(_dir, "b", "one.wav"), new AudioClip(new float[77], 16000), WavSampleFormat.Float32);
        File.WriteAllText(Path.Combine(_dir, "notes.txt"), "not audio");

        var m = Manifest.FromFolder(_dir);
        Assert.That(m.Root, Is.EqualTo(_dir));
        Assert.That(m.Entries, Is.EqualTo(new[]
        {
            new ManifestEntry("a.WAV", 150), new ManifestEntry("b/one.wav", 77), new ManifestEntry("b/two.wav", 300),
        }));

        var flat = Manifest.FromFolder(_dir, recursive: false);
        Assert.That(flat.Entries.Select(e => e.RelativePath), Is.EqualTo(new[] { "a.WAV" }));
    }

    [Test]
    public void FromFolder_UnreadableFile_StopsWithItsName_OrIsReportedToTheCallback()
    {
        WavWriter.Write(Path.Combine(_dir, "good.wav"), new AudioClip(new float[10], 16000));
        var bad = Write("bad.wav", "this is not RIFF data at all, just text");

        var ex = Assert.Throws<HArnessFormatException>(() => Manifest.FromFolder(_dir))!;
        Assert.That(ex.Message, Does.Contain("bad.wav"));

        var reported = new List<string>();
        var m = Manifest.FromFolder(_dir, onUnreadable: (path, _) => reported.Add(path));
        Assert.That(reported, Is.EqualTo(new[] { bad }));
        Assert.That(m.Entries, Is.EqualTo(new[] { new ManifestEntry("good.wav", 10) }));
    }

    [Test]
    public void FromFolder_MissingFolder_IsADataError()
    {
        Assert.Throws<HArnessDataException>(() => Manifest.FromFolder(Path.Combine(_dir, "missing")));
    }

    [TestCase(".\0x\na.wav\t3\n", 1, TestName = "Load_NulInTheRoot_IsRefusedWithTheLine")]
    [TestCase(".\na.wav\t3\nb\0.wav\t4\n", 3, TestName = "Load_NulInAnEntry_IsRefusedWithTheLine")]
    public void Load_Nul_IsRefused(string text, int line)
    {
        var tsv = Write("nul.tsv", text);
        var e = Assert.Throws<HArnessFormatException>(() => Manifest.Load(tsv))!;
        Assert.That(e.Message, Does.Contain($"line {line}:").And.Contain("NUL").And.Contain(tsv));
        Assert.That(e.FilePath, Is.EqualTo(tsv));
    }

    [Test]
    public void Load_SampleCountsWhoseSumOverflows_AreRefusedWithTheLine()
    {
        var tsv = Write("big.tsv", $".\na.wav\t{long.MaxValue}\nb.wav\t1\n");
        var e = Assert.Throws<HArnessFormatException>(() => Manifest.Load(tsv))!;
        Assert.That(e.Message, Does.Contain("line 3:").And.Contain("overflow"));
    }

    [Test]
    public void Constructor_NulAndOverflow_AreRefused()
    {
        Assert.Throws<HArnessConfigException>(() => _ = new Manifest("a\0b", []));
        Assert.Throws<HArnessConfigException>(() => _ = new Manifest(_dir, [new ManifestEntry("a\0.wav", 1)]));
        var e = Assert.Throws<HArnessConfigException>(() => _ = new Manifest(_dir, [new ManifestEntry("a.wav", long.MaxValue), new ManifestEntry("b.wav", 2)]))!;
        Assert.That(e.Message, Does.Contain("'b.wav'"));
        Assert.That(new Manifest(_dir, [new ManifestEntry("a.wav", long.MaxValue - 2), new ManifestEntry("b.wav", 2)]).TotalSamples, Is.EqualTo(long.MaxValue));
    }

    [Test]
    public void Select_KeepsTheOriginalFilesLineNumbers_InLineOfAndInErrors()
    {
        // Five entries, none of which exists: every read fails with the entry's line in the original file.
        var tsv = Write("train.tsv", ".\n" + string.Concat(Enumerable.Range(0, 5).Select(i => $"missing{i}.wav\t{100 + i}\n")));
        var full = Manifest.Load(tsv);
        var subset = full.Select([3, 0, 4]);
        Assert.That(subset.Entries.Select(e => e.RelativePath), Is.EqualTo(new[] { "missing3.wav", "missing0.wav", "missing4.wav" }));
        Assert.That(Enumerable.Range(0, 3).Select(i => subset.LineOf(i)), Is.EqualTo(new int?[] { 5, 2, 6 }));
        // A subset of a subset still points at the file's lines.
        var inner = subset.Select([2]);
        Assert.That(inner.LineOf(0), Is.EqualTo(6));

        var dataset = new AudioDataset(subset);
        var e = Assert.Throws<HArnessDataException>(() => dataset.Read(0))!;
        Assert.That(e.Message, Does.Contain($"line 5 of '{tsv}'").And.Contain("missing3.wav"), e.Message);
        e = Assert.Throws<HArnessDataException>(() => new AudioDataset(inner).Read(0))!;
        Assert.That(e.Message, Does.Contain($"line 6 of '{tsv}'").And.Contain("missing4.wav"), e.Message);

        // Saved, the subset is its own file: its lines are its own.
        var saved = Write("sub/sub.tsv", "");
        subset.Save(saved);
        Assert.That(subset.LineOf(0), Is.EqualTo(2));
        e = Assert.Throws<HArnessDataException>(() => new AudioDataset(subset).Read(2))!;
        Assert.That(e.Message, Does.Contain($"line 4 of '{saved}'"), e.Message);

        Assert.That(new Manifest(_dir, [new ManifestEntry("a.wav", 1)]).LineOf(0), Is.Null, "built in memory: no file, no line");
        Assert.Throws<ArgumentOutOfRangeException>(() => full.Select([5]));
        Assert.Throws<ArgumentOutOfRangeException>(() => subset.LineOf(3));
    }
}
