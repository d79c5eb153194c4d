using System.IO.Compression;
using System.Numerics;
using HArnESS.Serialization;
using HArnESS.Tests.Checkpoints;
using HArnESS.Runtime;
using HArnESS.Tests.Fuzz;
using NUnit.Framework;
using static TorchSharp.torch;

namespace HArnESS.Tests.Serialization;

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

    // ---- Malformed input (issue 8): each case is refused with a named error, never a hang or a bomb. ----

    private string _dir = "";

    [SetUp]
    public void CreateDir()
    {
        HArnessRuntime.EnsureInitialized();
        _dir = Path.Combine(Path.GetTempPath(), "harness-pickle-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [TearDown]
    public void DeleteDir() => Directory.Delete(_dir, recursive: true);

    private string Zip(byte[] pickle, params (string Key, byte[] Data)[] storages)
    {
        var path = Path.Combine(_dir, $"z{Guid.NewGuid():N}.pt");
        PickleWriter.WriteZip(path, pickle, storages.ToDictionary(s => s.Key, s => s.Data));
        return path;
    }

    private string Legacy(byte[] main, params (string Key, long Numel, byte[] Data)[] storages)
    {
        var path = Path.Combine(_dir, $"l{Guid.NewGuid():N}.pt");
        File.WriteAllBytes(path, PickleWriter.Legacy(main, storages));
        return path;
    }

    private static float[] Values(Tensor t) => t.to_type(ScalarType.Float32).flatten().data<float>().ToArray();

    [Test]
    public void ReadsIntegersWrittenWithLong1AsLongs()
    {
        // PyTorch writes integers >= 2^31 with LONG1, and Python's pickler may use it for small ones too: a tensor
        // whose offset and storage size come as LONG1 must load (it was refused as "not an integer").
        var pk = new PickleWriter().Proto().Op('}').Op('(').Str("w")
            .Global("torch._utils", "_rebuild_tensor_v2").Op('(')
            .Op('(').Str("storage").Global("torch", "FloatStorage").Str("0").Str("cpu").Long1(3).Op('t').Byte('Q')
            .Long1(1).Op('(').Long1(2).Op('t').Op('(').Long1(1).Op('t').Op('t').Op('R')
            .Str("big").Long1(1L << 40).Str("neg").Long1(-5)
            .Op('u').Stop().ToArray();
        using var reader = TorchPickleReader.Open(Zip(pk, ("0", PickleWriter.Floats(1, 2, 3))));
        var root = (Dictionary<object, object?>)reader.Root!;
        Assert.That(root["big"], Is.EqualTo(1L << 40));
        Assert.That(root["neg"], Is.EqualTo(-5L));
        using var w = reader.Tensors()["w"].Load();
        Assert.That(Values(w), Is.EqualTo(new float[] { 2, 3 }));
    }

    [Test]
    public void ASelfReferencingDictIsWalkedOnce()
    {
        // {a: <self>, b: <self>, w: tensor}: following the self references would name 2^33 entries.
        var pk = new PickleWriter().Proto().Op('}').Byte('q').Byte(0).Op('(')
            .Str("a").Byte('h').Byte(0).Str("b").Byte('h').Byte(0)
            .Str("w").Tensor("0", 2, 0, [2], [1])
            .Op('u').Stop().ToArray();
        var path = Zip(pk, ("0", PickleWriter.Floats(4, 5)));
        Dictionary<string, CheckpointTensor>? tensors = null;
        var outcome = Bounded.Run(() =>
        {
            using var reader = TorchPickleReader.Open(path);
            tensors = reader.Tensors();
        }, "self-referencing dict");
        Assert.That(outcome.Error, Is.Null);
        Assert.That(tensors!.Keys, Is.EqualTo(new[] { "w" }));
    }

    [Test]
    public void RefusesAHugeIntegerInsteadOfTurningItIntoText()
    {
        // A 1 MiB LONG4 integer as a dict key: decimal conversion is quadratic (minutes). Refused by the documented limit.
        var digits = new byte[1 << 20];
        digits.AsSpan().Fill(0x7f);
        var pk = new PickleWriter().Proto().Op('}').Byte(0x8b).Raw(BitConverter.GetBytes(digits.Length)).Raw(digits)
            .Tensor("0", 1, 0, [1], [1]).Op('s').Stop().ToArray();
        var path = Zip(pk, ("0", PickleWriter.Floats(1)));
        var e = Bounded.Throws<HArnessCheckpointException>(() =>
        {
            using var reader = TorchPickleReader.Open(path);
            reader.Tensors();
        }, "huge integer key");
        Assert.That(e.Message, Does.Contain("limit of 256 bytes").And.Contain(path));
    }

    [TestCase("F", "1.5e999x", TestName = "RefusesAMalformedFloatByName")]
    [TestCase("S", "'\\x4'", TestName = "RefusesABadHexEscapeInAString")]
    [TestCase("S", "'abc", TestName = "RefusesAnUnquotedString")]
    [TestCase("S", "'abc\\'", TestName = "RefusesAStringEndingInABackslash")]
    [TestCase("V", "\\u12", TestName = "RefusesATruncatedUnicodeEscape")]
    [TestCase("V", "\\U00110000", TestName = "RefusesACodePointPastUnicode")]
    [TestCase("I", "12x", TestName = "RefusesAMalformedIntLine")]
    [TestCase("I", "\u0663", TestName = "RefusesANonAsciiDigitInAnIntLine")]
    public void RefusesABadTextOpcode(string op, string line)
    {
        var pk = new PickleWriter().Proto().Op('}').Str("x").Line(op[0], line).Op('s').Stop().ToArray();
        var path = Zip(pk);
        var e = Bounded.Throws<HArnessCheckpointException>(() => TorchPickleReader.Open(path).Dispose(), op);
        Assert.That(e.FilePath, Is.EqualTo(path));
    }

    [Test]
    public void DecodesTextOpcodesAsPython()
    {
        // Values and escapes as Python 3.11's pickle.loads decodes them (protocol 0 text opcodes).
        var pk = new PickleWriter().Proto().Op('}').Op('(')
            .Str("f").Line('F', "0.25").Str("inf").Line('F', "inf").Str("ninf").Line('F', "-inf").Str("e").Line('F', "-1e-05")
            .Str("s").Line('S', "'\\x41\\101\\n\\\\\\'z\\q\\7'")
            .Str("d").Line('S', "\"caf\\xc3\\xa9\"")
            .Str("u").Line('V', "A\\u00e9\\U0001F600\\\\u0041")
            .Str("i").Line('I', "-12").Str("l").Line('L', "123456789012345678901234567890L")
            .Op('u').Stop().ToArray();
        using var reader = TorchPickleReader.Open(Zip(pk));
        var root = (Dictionary<object, object?>)reader.Root!;
        Assert.That(root["f"], Is.EqualTo(0.25));
        Assert.That(root["inf"], Is.EqualTo(double.PositiveInfinity));
        Assert.That(root["ninf"], Is.EqualTo(double.NegativeInfinity));
        Assert.That(root["e"], Is.EqualTo(-1e-05));
        Assert.That(root["s"], Is.EqualTo("AA\n\\'z\\q\a"));
        Assert.That(root["d"], Is.EqualTo("café"));
        Assert.That(root["u"], Is.EqualTo("Aé\U0001F600\\\\u0041"));
        Assert.That(root["i"], Is.EqualTo(-12L));
        Assert.That(root["l"], Is.EqualTo(BigInteger.Parse("123456789012345678901234567890")));
    }

    [Test]
    public void AnExpandedViewLoadsWithinTheLimit()
    {
        // torch.tensor([7.]).expand(2, 3): stride 0 over a 1-element storage, read as six sevens.
        using var reader = TorchPickleReader.Open(Zip(PickleWriter.OneTensorDict("w", 1, 0, [2, 3], [0, 0]), ("0", PickleWriter.Floats(7))));
        using var w = reader.Tensors()["w"].Load();
        Assert.That(w.shape, Is.EqualTo(new long[] { 2, 3 }));
        Assert.That(Values(w), Is.EqualTo(Enumerable.Repeat(7f, 6).ToArray()));
    }

    [TestCase(1L << 28)]
    [TestCase(1L << 33)]
    [TestCase(1L << 60)]
    public void RefusesAnExpandedViewPastTheLimitBeforeReadingIt(long elements)
    {
        // A stride-0 view of 2^28 elements over one stored float cost 1 GiB at load; refused at open now.
        var path = Zip(PickleWriter.OneTensorDict("w", 1, 0, [elements], [0]), ("0", PickleWriter.Floats(7)));
        var e = Bounded.Throws<HArnessCheckpointException>(() =>
        {
            using var reader = TorchPickleReader.Open(path);
            foreach (var t in reader.Tensors().Values) t.Load().Dispose();
        }, "expanded view", maxAllocatedBytes: 64L << 20);
        Assert.That(e.Message, Does.Contain("'w'").And.Contain("MaxExpandedElements").And.Contain(path));
    }

    [Test]
    public void RefusesAZeroElementShapeWhoseStridesOverflow()
    {
        var path = Zip(PickleWriter.OneTensorDict("w", 0, 0, [0, 1L << 62, 3], [0, 3, 1]), ("0", []));
        var e = Bounded.Throws<HArnessCheckpointException>(() =>
        {
            using var reader = TorchPickleReader.Open(path);
            foreach (var t in reader.Tensors().Values) t.Load().Dispose();
        }, "zero-element shape");
        Assert.That(e.Message, Does.Contain("'w'").And.Contain("too large"));
    }

    [Test]
    public void ReadsALegacyView()
    {
        // Legacy storages carry (view key, offset, size) views on a root storage.
        var main = PickleWriter.OneTensorDict("w", 4, 1, [2], [1], view: (1, 3), legacy: true);
        using var reader = TorchPickleReader.Open(Legacy(main, ("0", 4, PickleWriter.Floats(1, 2, 3, 4))));
        using var w = reader.Tensors()["w"].Load();
        Assert.That(Values(w), Is.EqualTo(new float[] { 3, 4 }));
    }

    [TestCase(long.MinValue, 2L)]
    [TestCase(-1L, 2L)]
    [TestCase(long.MaxValue, 2L)]
    [TestCase(3L, 2L)]
    [TestCase(0L, long.MaxValue)]
    [TestCase(0L, -1L)]
    public void RefusesALegacyViewOutsideItsStorage(long offset, long size)
    {
        var main = PickleWriter.OneTensorDict("w", 4, 0, [1], [1], view: (offset, size), legacy: true);
        var path = Legacy(main, ("0", 4, PickleWriter.Floats(1, 2, 3, 4)));
        var e = Bounded.Throws<HArnessCheckpointException>(() =>
        {
            using var reader = TorchPickleReader.Open(path);
            foreach (var t in reader.Tensors().Values) t.Load().Dispose();
        }, "legacy view");
        Assert.That(e.Message, Does.Contain("storage '0'").And.Contain(path));
    }

    [Test]
    public void RefusesALegacyStorageWhoseByteSizeWraps()
    {
        // 2^62 + 1 floats: the byte size wraps to 4, which the file holds.
        long numel = (1L << 62) + 1;
        var main = PickleWriter.OneTensorDict("w", numel, 0, [1], [1], legacy: true);
        var path = Legacy(main, ("0", numel, PickleWriter.Floats(1)));
        var e = Bounded.Throws<HArnessCheckpointException>(() =>
        {
            using var reader = TorchPickleReader.Open(path);
            foreach (var t in reader.Tensors().Values) t.Load().Dispose();
        }, "wrapping storage");
        Assert.That(e.Message, Does.Contain("storage '0'"));
    }

    private static int IndexOf(byte[] data, ReadOnlySpan<byte> pattern, int nth)
    {
        int at = -1;
        for (int k = 0; k <= nth; k++)
        {
            int next = data.AsSpan(at + 1).IndexOf(pattern);
            if (next < 0) return -1;
            at += 1 + next;
        }
        return at;
    }

    [TestCase("central", TestName = "RefusesADamagedCentralDirectoryByName")]
    [TestCase("local", TestName = "RefusesADamagedLocalHeaderByName")]
    [TestCase("method", TestName = "RefusesAnUnsupportedCompressionMethodByName")]
    public void RefusesADamagedZip(string damage)
    {
        var path = Zip(PickleWriter.OneTensorDict("w", 2, 0, [2], [1]), ("0", PickleWriter.Floats(1, 2)));
        var bytes = File.ReadAllBytes(path);
        switch (damage)
        {
            case "central": bytes[IndexOf(bytes, "PK\u0001\u0002"u8, 0) + 3] = 9; break;
            case "local": bytes[IndexOf(bytes, "PK\u0003\u0004"u8, 2) + 3] = 9; break; // the storage entry's header
            case "method":
                // Compression method 99 (AES) in the storage entry's local and central headers.
                bytes[IndexOf(bytes, "PK\u0003\u0004"u8, 2) + 8] = 99;
                bytes[IndexOf(bytes, "PK\u0001\u0002"u8, 2) + 10] = 99;
                break;
        }
        File.WriteAllBytes(path, bytes);
        var e = Bounded.Throws<HArnessCheckpointException>(() =>
        {
            using var reader = TorchPickleReader.Open(path);
            foreach (var t in reader.Tensors().Values) t.Load().Dispose();
        }, damage);
        Assert.That(e.FilePath, Is.EqualTo(path));
    }

    [Test]
    public void ReadsOnlyAFewBytesOfADeflateBombInByteOrder()
    {
        var path = Path.Combine(_dir, "bomb.pt");
        var bomb = new byte[64 << 20];
        bomb.AsSpan().Fill((byte)' ');
        "little"u8.CopyTo(bomb);
        PickleWriter.WriteZip(path, PickleWriter.OneTensorDict("w", 1, 0, [1], [1]), new Dictionary<string, byte[]> { ["0"] = PickleWriter.Floats(3) },
            bomb, CompressionLevel.Optimal);
        Assert.That(new FileInfo(path).Length, Is.LessThan(1 << 20));
        var e = Bounded.Throws<HArnessCheckpointException>(() => TorchPickleReader.Open(path).Dispose(), "byteorder bomb", maxAllocatedBytes: 16L << 20);
        Assert.That(e.Message, Does.Contain("byte order"));
    }

    [Test]
    public void ReadsALegacyStoragePastTwoGibibytesInAFileOverTwoGibibytes()
    {
        // A 2.5 GiB byte storage (a hole: no disk used), then the tensor that matters, as in a large legacy .pt.
        const long pad = 5L << 29;
        var main = new PickleWriter().Proto().Op('}').Op('(')
            .Str("pad").Tensor("p", pad, 0, [pad], [1], legacy: true, storage: "ByteStorage")
            .Str("w").Tensor("w", 4, 1, [3], [1], legacy: true)
            .Op('u').Stop().ToArray();
        var path = Path.Combine(_dir, "big_legacy.pt");
        using (var fs = File.Create(path))
            PickleWriter.WriteLegacy(fs, main, [("p", pad, null, pad), ("w", 4, PickleWriter.Floats(9, 8, 7, 6), 0)]);
        Assert.That(new FileInfo(path).Length, Is.GreaterThan(pad));
        using var reader = TorchPickleReader.Open(path);
        var tensors = reader.Tensors();
        Assert.That(tensors["pad"].ElementCount, Is.EqualTo(pad));
        using var w = tensors["w"].Load();
        Assert.That(Values(w), Is.EqualTo(new float[] { 8, 7, 6 }));
    }

    [Test]
    public void ReadsAZip64StoragePastFourGibibytesInAFileOverFourGibibytes()
    {
        // A 4.5 GiB byte storage (a hole) before the tensor that matters: the storage's size and the next entry's
        // offset need Zip64 records, as in an XLS-R 1B or HuBERT X-Large torch.save file.
        Assert.That(PickleWriter.Crc32OfZeros(1000), Is.EqualTo(PickleWriter.Crc32(new byte[1000])));
        const long pad = 9L << 29;
        var pk = new PickleWriter().Proto().Op('}').Op('(')
            .Str("pad").Tensor("p", pad, 0, [pad], [1], storage: "ByteStorage")
            .Str("w").Tensor("w", 4, 2, [2], [1])
            .Op('u').Stop().ToArray();
        var path = Path.Combine(_dir, "big_zip.pt");
        PickleWriter.WriteZip64(path,
        [
            ("archive/data.pkl", pk, 0), ("archive/byteorder", "little"u8.ToArray(), 0),
            ("archive/data/p", null, pad), ("archive/data/w", PickleWriter.Floats(9, 8, 7, 6), 0),
        ]);
        Assert.That(new FileInfo(path).Length, Is.GreaterThan(pad));
        using var reader = TorchPickleReader.Open(path);
        Assert.That(reader.IsZipFormat, Is.True);
        var tensors = reader.Tensors();
        Assert.That(tensors["pad"].ElementCount, Is.EqualTo(pad));
        using var w = tensors["w"].Load();
        Assert.That(Values(w), Is.EqualTo(new float[] { 7, 6 }));
    }

    [Test]
    public void RefusesALongKeySharedThousandsOfTimes()
    {
        // One 64 KiB key memoised, then used as the key of 4096 nested dicts' tensors: 2 bytes per use in the file,
        // 256 MiB of names if built.
        var key = new string('k', 1 << 16);
        var pk = new PickleWriter().Proto().Op('}').Op('(').Str(key).Byte('q').Byte(1).Tensor("0", 1, 0, [1], [1]).Op('u');
        for (int i = 0; i < 4096; i++)
            pk.Str("d" + i).Op('}').Byte('h').Byte(1).Tensor("0", 1, 0, [1], [1]).Op('s').Op('s');
        var path = Zip(pk.Stop().ToArray(), ("0", PickleWriter.Floats(1)));
        var e = Bounded.Throws<HArnessCheckpointException>(() =>
        {
            using var reader = TorchPickleReader.Open(path);
            reader.Tensors();
        }, "shared long key", maxAllocatedBytes: 256L << 20);
        Assert.That(e.Message, Does.Contain("characters"));
    }
}
