using HArnESS.Checkpoints;
using NUnit.Framework;

namespace HArnESS.Tests.Checkpoints;

[TestFixture]
public sealed class TorchPickleReaderTests
{
    [TestCase("state_dict_zip.pt", true)]
    [TestCase("state_dict_legacy.pt", false)]
    public void ReadsAStateDictWithViewsHalfAndIntegers(string file, bool zip)
    {
        var expected = CheckpointFixtures.ReadExpected("state_dict_expected.json");
        using var reader = TorchPickleReader.Open(CheckpointFixtures.PathOf(file));
        Assert.That(reader.IsZipFormat, Is.EqualTo(zip));
        var tensors = reader.Tensors();
        Assert.That(tensors.Keys, Is.EquivalentTo(expected.Keys));
        foreach (var (name, exp) in expected)
        {
            Assert.That(tensors[name].Shape, Is.EqualTo(exp.Shape), name);
            using var t = tensors[name].Load();
            CheckpointFixtures.AssertMatches(name, t, exp);
        }
    }

    [Test]
    public void ReadsAFairseqLikeCheckpointWithNamespaceAndNumpyExtras()
    {
        using var reader = TorchPickleReader.Open(CheckpointFixtures.PathOf("fairseq_like.pt"));
        var root = (Dictionary<object, object?>)reader.Root!;
        var args = (PickleObject)root["args"]!;
        Assert.That(args.FullName, Is.EqualTo("argparse.Namespace"));
        Assert.That(args.GetAttribute("arch"), Is.EqualTo("hubert"));
        Assert.That(args.GetAttribute("encoder_layers"), Is.EqualTo(2L));
        Assert.That(args.GetAttribute("label_rate"), Is.EqualTo(50.0));
        var cfg = (Dictionary<object, object?>)root["cfg"]!;
        Assert.That(((Dictionary<object, object?>)cfg["task"]!)["sample_rate"], Is.EqualTo(16000L));
        var extra = (Dictionary<object, object?>)root["extra_state"]!;
        Assert.That(extra["blob"], Is.EqualTo(new byte[] { 0, 1 }));
        var model = reader.Tensors(root["model"]);
        Assert.That(model.Keys, Is.EquivalentTo(new[] { "dense.weight", "dense.bias", "steps" }));
        var expected = CheckpointFixtures.ReadExpected("state_dict_expected.json");
        using var w = model["dense.weight"].Load();
        CheckpointFixtures.AssertMatches("dense.weight", w, expected["dense.weight"]);
    }

    [Test]
    public void RefusesAnUnknownGlobalByName()
    {
        var path = CheckpointFixtures.PathOf("unknown_global.pt");
        var e = Assert.Throws<HArnessCheckpointException>(() => TorchPickleReader.Open(path).Dispose())!;
        Assert.That(e.Message, Does.Contain("'omegaconf.dictconfig.DictConfig'"));
        Assert.That(e.FilePath, Is.EqualTo(path));
    }

    [Test]
    public void LenientModeKeepsAnUnknownGlobalAsAnInertPlaceholder()
    {
        using var reader = TorchPickleReader.Open(CheckpointFixtures.PathOf("unknown_global.pt"),
            new TorchPickleOptions { AllowUnknownGlobals = true });
        var root = (Dictionary<object, object?>)reader.Root!;
        var cfg = (PickleObject)root["cfg"]!;
        Assert.That(cfg.FullName, Is.EqualTo("omegaconf.dictconfig.DictConfig"));
        Assert.That(reader.Tensors(root["model"]).Keys, Does.Contain("dense.weight"));
    }

    [Test]
    public void RefusesOsSystemWithoutRunningIt()
    {
        var marker = Path.Combine(Environment.CurrentDirectory, "harness_pickle_pwned_marker");
        var e = Assert.Throws<HArnessCheckpointException>(() => TorchPickleReader.Open(CheckpointFixtures.PathOf("malicious_os_system.pt")).Dispose())!;
        Assert.That(e.Message, Does.Contain("'posix.system'").Or.Contain("'os.system'"));
        Assert.That(File.Exists(marker), Is.False);
    }

    [Test]
    public void LenientModeStillExecutesNothing()
    {
        var marker = Path.Combine(Environment.CurrentDirectory, "harness_pickle_pwned_marker");
        using var reader = TorchPickleReader.Open(CheckpointFixtures.PathOf("malicious_os_system.pt"),
            new TorchPickleOptions { AllowUnknownGlobals = true });
        var evil = (PickleObject)((Dictionary<object, object?>)reader.Root!)["model"]!;
        Assert.That(evil.Name, Is.EqualTo("system"));
        Assert.That(evil.Args, Is.EqualTo(new object?[] { "touch harness_pickle_pwned_marker" }));
        Assert.That(File.Exists(marker), Is.False);
    }

    [Test]
    public void RefusesAStorageSmallerThanDeclared()
    {
        var e = Assert.Throws<HArnessCheckpointException>(() => TorchPickleReader.Open(CheckpointFixtures.PathOf("bad_storage_size.pt")).Dispose())!;
        Assert.That(e.Message, Does.Contain("storage '0'").And.Contain("holds 8"));
    }

    [Test]
    public void RefusesAFileThatIsNotACheckpoint()
    {
        var e = Assert.Throws<HArnessCheckpointException>(() => TorchPickleReader.Open(CheckpointFixtures.PathOf("formats_expected.json")).Dispose())!;
        Assert.That(e.Message, Does.Contain("neither a PyTorch zip archive"));
    }
}
