using HArnESS.Checkpoints;
using NUnit.Framework;
using static TorchSharp.torch;

namespace HArnESS.Tests.Checkpoints;

[TestFixture]
public sealed class SafeTensorsTests
{
    [Test]
    public void ReadsEveryDTypeWrittenByTheReferenceLayout()
    {
        var expected = CheckpointFixtures.ReadExpected("formats_expected.json");
        using var file = SafeTensors.Open(CheckpointFixtures.PathOf("formats.safetensors"));
        Assert.That(file.Keys, Is.EquivalentTo(expected.Keys));
        Assert.That(file.Metadata["format"], Is.EqualTo("pt"));
        Assert.That(file.Metadata["note"], Is.EqualTo("harness fixture"));
        foreach (var (name, exp) in expected)
        {
            using var t = file.Load(name);
            CheckpointFixtures.AssertMatches(name, t, exp);
        }
    }

    [Test]
    public void LoadsToARequestedDType()
    {
        using var file = SafeTensors.Open(CheckpointFixtures.PathOf("formats.safetensors"));
        using var half = file.Load("f16");
        using var asFloat = file.Load("f16", dtype: ScalarType.Float32);
        Assert.That(asFloat.dtype, Is.EqualTo(ScalarType.Float32));
        Assert.That(asFloat.allclose(half.to_type(ScalarType.Float32)), Is.True);
    }

    [Test]
    public void WriterReproducesTheReferenceFileByteForByte()
    {
        var src = CheckpointFixtures.PathOf("formats.safetensors");
        var tensors = SafeTensors.Load(src);
        var dst = Path.Combine(Path.GetTempPath(), $"harness_st_{Guid.NewGuid():N}.safetensors");
        try
        {
            SafeTensors.Save(dst, tensors, new Dictionary<string, string> { ["format"] = "pt", ["note"] = "harness fixture" });
            Assert.That(File.ReadAllBytes(dst), Is.EqualTo(File.ReadAllBytes(src)));
            long headerLength = BitConverter.ToInt64(File.ReadAllBytes(dst).AsSpan(0, 8));
            Assert.That(headerLength % 8, Is.Zero, "data must start 8-byte aligned");
        }
        finally
        {
            File.Delete(dst);
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    [Test]
    public void RoundTripsNonContiguousTensors()
    {
        using var baseT = arange(12, dtype: ScalarType.Float32).reshape(3, 4);
        using var view = baseT.t();
        var dst = Path.Combine(Path.GetTempPath(), $"harness_st_{Guid.NewGuid():N}.safetensors");
        try
        {
            SafeTensors.Save(dst, new Dictionary<string, Tensor> { ["v"] = view });
            using var file = SafeTensors.Open(dst);
            using var back = file.Load("v");
            Assert.That(back.shape, Is.EqualTo(new long[] { 4, 3 }));
            Assert.That(back.equal(view).all().item<bool>(), Is.True);
        }
        finally
        {
            File.Delete(dst);
        }
    }

    [Test]
    public void RefusesAHeaderLengthBeyondTheFile()
    {
        var path = CheckpointFixtures.PathOf("bad_header_length.safetensors");
        var e = Assert.Throws<HArnessFormatException>(() => SafeTensors.Open(path).Dispose())!;
        Assert.That(e.Message, Does.Contain("bad_header_length.safetensors").And.Contain("header length 1000000"));
        Assert.That(e.FilePath, Is.EqualTo(path));
    }

    [Test]
    public void RefusesAHugeHeaderLengthWithoutAllocating()
    {
        var e = Assert.Throws<HArnessFormatException>(() => SafeTensors.Open(CheckpointFixtures.PathOf("bad_header_huge.safetensors")).Dispose())!;
        Assert.That(e.Message, Does.Contain("exceeds the limit"));
    }

    [Test]
    public void RefusesAHeaderThatIsNotJson()
    {
        var e = Assert.Throws<HArnessFormatException>(() => SafeTensors.Open(CheckpointFixtures.PathOf("bad_header_not_json.safetensors")).Dispose())!;
        Assert.That(e.Message, Does.Contain("not valid JSON").And.Contain("bad_header_not_json.safetensors"));
    }

    [Test]
    public void RefusesOffsetsOutOfRange()
    {
        var e = Assert.Throws<HArnessFormatException>(() => SafeTensors.Open(CheckpointFixtures.PathOf("bad_offsets_out_of_range.safetensors")).Dispose())!;
        Assert.That(e.Message, Does.Contain("entry 'b'").And.Contain("beyond the data buffer (8 bytes)"));
    }

    [Test]
    public void RefusesAShapeThatDoesNotMatchTheBytes()
    {
        var e = Assert.Throws<HArnessFormatException>(() => SafeTensors.Open(CheckpointFixtures.PathOf("bad_shape_mismatch.safetensors")).Dispose())!;
        Assert.That(e.Message, Does.Contain("entry 'a'").And.Contain("holds 8 bytes but shape [3] of F32 needs 12"));
    }

    [Test]
    public void RefusesOverlappingTensors()
    {
        var e = Assert.Throws<HArnessFormatException>(() => SafeTensors.Open(CheckpointFixtures.PathOf("bad_overlap.safetensors")).Dispose())!;
        Assert.That(e.Message, Does.Contain("overlapping"));
    }

    [Test]
    public void RefusesAnUnknownDType()
    {
        var e = Assert.Throws<HArnessFormatException>(() => SafeTensors.Open(CheckpointFixtures.PathOf("bad_dtype.safetensors")).Dispose())!;
        Assert.That(e.Message, Does.Contain("unknown dtype 'F31'"));
    }

    [Test]
    public void RefusesBeginAfterEnd()
    {
        var e = Assert.Throws<HArnessFormatException>(() => SafeTensors.Open(CheckpointFixtures.PathOf("bad_begin_after_end.safetensors")).Dispose())!;
        Assert.That(e.Message, Does.Contain("begin > end"));
    }

    [Test]
    public void NamesAMissingTensor()
    {
        using var file = SafeTensors.Open(CheckpointFixtures.PathOf("formats.safetensors"));
        var e = Assert.Throws<CheckpointException>(() => file.Load("nope"))!;
        Assert.That(e.Message, Does.Contain("'nope'"));
    }
}
