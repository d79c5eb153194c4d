using HArnESS.Data;
using NUnit.Framework;

namespace HArnESS.Tests.Data;

[TestFixture]
public sealed class LabelFileTests
{
    private string _dir = "";
    private Manifest _manifest = null!;

    [SetUp]
    public void CreateDir()
    {
        _dir = Path.Combine(Path.GetTempPath(), "harness-labels-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
        _manifest = new Manifest(_dir, [new ManifestEntry("a.wav", 10), new ManifestEntry("b.wav", 20), new ManifestEntry("c.wav", 30)]);
        _manifest.Save(Path.Combine(_dir, "train.tsv"));
    }

    [TearDown]
    public void DeleteDir() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Test]
    public void Km_ParsesUnitsPerFrame()
    {
        var f = LabelFile.Load(Write("train.km", "1 2 3\n499 0\n\n"), _manifest);
        Assert.That(f.Kind, Is.EqualTo(LabelKind.Units));
        Assert.That(f.Name, Is.EqualTo("km"));
        Assert.That(f.Units(0), Is.EqualTo(new[] { 1, 2, 3 }));
        Assert.That(f.Units(1), Is.EqualTo(new[] { 499, 0 }));
        Assert.That(f.Units(2), Is.Empty);
    }

    [Test]
    public void Km_NonInteger_NamesFileLineAndUnit()
    {
        var path = Write("train.km", "1 2\n3 x4 5\n6\n");
        var ex = Assert.Throws<HArnessFormatException>(() => LabelFile.Load(path))!;
        Assert.That(ex.FilePath, Is.EqualTo(path));
        Assert.That(ex.Message, Does.Contain("line 2: unit 2 is 'x4'"));
    }

    [Test]
    public void Ltr_And_Wrd_GiveTokensAndText()
    {
        var ltr = LabelFile.Load(Write("train.ltr", "H I | Y O U |\nن ع م |\nA |\n"), _manifest);
        var wrd = LabelFile.Load(Write("train.wrd", "HI YOU\nنعم\nA\n"), _manifest);
        Assert.That(ltr.Kind, Is.EqualTo(LabelKind.Letters));
        Assert.That(wrd.Kind, Is.EqualTo(LabelKind.Words));
        Assert.That(ltr.Tokens(0), Is.EqualTo(new[] { "H", "I", "|", "Y", "O", "U", "|" }));
        Assert.That(wrd.Tokens(0), Is.EqualTo(new[] { "HI", "YOU" }));
        for (var i = 0; i < 3; i++)
        {
            Assert.That(ltr.Text(i), Is.EqualTo(wrd.Text(i)));
            Assert.That(LabelFile.ToLetters(wrd[i]), Is.EqualTo(ltr[i]));
        }
        Assert.Throws<HArnessConfigException>(() => ltr.Units(0));
        Assert.Throws<HArnessConfigException>(() => ltr.ClassId(0));
    }

    [Test]
    public void Classes_AreSortedOrdinally_AndIdsFollow()
    {
        var f = LabelFile.Load(Write("train.emo", "sad\nangry\nsad\r\n"), _manifest);
        Assert.That(f.Kind, Is.EqualTo(LabelKind.Class));
        Assert.That(f.Classes, Is.EqualTo(new[] { "angry", "sad" }));
        Assert.That(Enumerable.Range(0, 3).Select(f.ClassId), Is.EqualTo(new[] { 1, 0, 1 }));
    }

    [Test]
    public void Class_WithSpace_NamesLine()
    {
        var path = Write("train.spk", "a\nb c\nd\n");
        var ex = Assert.Throws<HArnessFormatException>(() => LabelFile.Load(path))!;
        Assert.That(ex.Message, Does.Contain("line 2"));
    }

    [Test]
    public void CountMismatch_NamesBothFilesAndCounts()
    {
        var path = Write("train.emo", "sad\nhappy\n");
        var ex = Assert.Throws<HArnessDataException>(() => LabelFile.Load(path, _manifest))!;
        Assert.That(ex.FilePath, Is.EqualTo(path));
        Assert.That(ex.Message, Does.Contain("has 2 line(s)"));
        Assert.That(ex.Message, Does.Contain("has 3 entries"));
        Assert.That(ex.Message, Does.Contain(_manifest.SourcePath));
    }

    [Test]
    public void LoadBeside_FindsTheFileNextToTheManifest()
    {
        Write("train.dia", "ar\nen-us\nar\n");
        var m = Manifest.Load(Path.Combine(_dir, "train.tsv"));
        var f = LabelFile.LoadBeside(m, "dia");
        Assert.That(f.Lines, Is.EqualTo(new[] { "ar", "en-us", "ar" }));
        Assert.Throws<HArnessDataException>(() => LabelFile.LoadBeside(m, "ltr"));
        Assert.Throws<HArnessConfigException>(() => LabelFile.LoadBeside(new Manifest(_dir, []), "dia"));
    }

    [Test]
    public void SaveThenLoad_RoundTrips()
    {
        var path = Path.Combine(_dir, "x", "train.kws");
        LabelFile.Save(path, ["yes", "no", "yes"]);
        Assert.That(LabelFile.Load(path, _manifest).Lines, Is.EqualTo(new[] { "yes", "no", "yes" }));
        Assert.Throws<HArnessConfigException>(() => LabelFile.Save(path, ["a\nb"]));
    }
}
