using System.Text;
using HArnESS.Serialization;
using HArnESS.Tests.Checkpoints;
using HArnESS.Tests.Fuzz;
using NUnit.Framework;
using static TorchSharp.torch;

namespace HArnESS.Tests.Serialization;

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

    // One malformed file per rule; each must be refused with the file and the offending field named.
    [TestCase("bad_header_length.safetensors", "header length 1000000 does not fit in the file")]
    [TestCase("bad_header_huge.safetensors", "exceeds the limit of 100000000 bytes")]
    [TestCase("bad_header_not_json.safetensors", "header is not valid JSON")]
    [TestCase("bad_offsets_out_of_range.safetensors", "entry 'b' has data_offsets [8, 24] beyond the data buffer (8 bytes)")]
    [TestCase("bad_shape_mismatch.safetensors", "entry 'a' holds 8 bytes but shape [3] of F32 needs 12")]
    [TestCase("bad_overlap.safetensors", "entry 'b' has data_offsets [4, 8] overlapping 'a' [0, 8]")]
    [TestCase("bad_dtype.safetensors", "entry 'a' has unknown dtype 'F31'")]
    [TestCase("bad_begin_after_end.safetensors", "entry 'a' has data_offsets [8, 0] with begin > end")]
    public void RefusesAMalformedFile(string file, string expected)
    {
        var path = CheckpointFixtures.PathOf(file);
        var e = Assert.Throws<HArnessFormatException>(() => SafeTensors.Open(path).Dispose())!;
        Assert.That(e.Message, Does.Contain(expected).And.Contain(file));
        Assert.That(e.FilePath, Is.EqualTo(path));
    }

    [Test]
    public void NamesAMissingTensor()
    {
        using var file = SafeTensors.Open(CheckpointFixtures.PathOf("formats.safetensors"));
        var e = Assert.Throws<HArnessCheckpointException>(() => file.Load("nope"))!;
        Assert.That(e.Message, Does.Contain("'nope'"));
    }

    private static string WriteRaw(byte[] header, long dataBytes, string name)
    {
        var path = Path.Combine(Path.GetTempPath(), $"harness_st_{name}_{Guid.NewGuid():N}.safetensors");
        using var fs = File.Create(path);
        fs.Write(BitConverter.GetBytes((ulong)header.Length));
        fs.Write(header);
        fs.SetLength(fs.Length + dataBytes);
        return path;
    }

    [Test]
    public void RefusesInvalidUtf8InAHeaderKey()
    {
        // '{"a\xff": ...}': System.Text.Json only notices when the key is read, with an InvalidOperationException.
        var header = Encoding.UTF8.GetBytes("{\"a?\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}");
        header[3] = 0xff;
        var path = WriteRaw(header, 4, "utf8");
        try
        {
            var e = Assert.Throws<HArnessFormatException>(() => SafeTensors.Open(path).Dispose())!;
            Assert.That(e.Message, Does.Contain("not valid UTF-8").And.Contain("header byte 3"));
            Assert.That(e.FilePath, Is.EqualTo(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void RefusesAZeroElementShapeWhoseStridesOverflow()
    {
        // [0, 2^62, 3] holds no element and no byte, but libtorch's strides for it overflow 64 bits.
        var header = Encoding.UTF8.GetBytes("{\"a\":{\"dtype\":\"F32\",\"shape\":[0,4611686018427387904,3],\"data_offsets\":[0,0]}}");
        var path = WriteRaw(header, 0, "zero");
        try
        {
            var e = Assert.Throws<HArnessFormatException>(() =>
            {
                using var f = SafeTensors.Open(path);
                f.Load("a").Dispose();
            })!;
            Assert.That(e.Message, Does.Contain("entry 'a' has shape [0, 4611686018427387904, 3]"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void ReadsATensorPastTwoGibibytesInAFileOverTwoGibibytes()
    {
        // A 3 GiB padding tensor (a hole in a sparse file: no disk used) and a small tensor after it, as the tail of
        // an XLS-R 1B file looks. Offsets past 2^31 and 2^32 must read the right bytes.
        const long pad = 3L << 30;
        var json = $"{{\"pad\":{{\"dtype\":\"U8\",\"shape\":[{pad}],\"data_offsets\":[0,{pad}]}}," +
                   $"\"tail\":{{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[{pad},{pad + 16}]}}}}";
        var header = Encoding.UTF8.GetBytes(json.PadRight((json.Length + 7) / 8 * 8));
        var path = WriteRaw(header, pad, "big");
        try
        {
            using (var fs = new FileStream(path, FileMode.Open, FileAccess.Write))
            {
                fs.Seek(0, SeekOrigin.End);
                fs.Write(PickleWriter.Floats(1.5f, -2, 3, 1e-3f));
            }
            Assert.That(new FileInfo(path).Length, Is.GreaterThan(3L << 30));
            using var file = SafeTensors.Open(path);
            Assert.That(file.GetInfo("tail").Begin, Is.EqualTo(pad));
            using var t = file.Load("tail");
            Assert.That(t.shape, Is.EqualTo(new long[] { 2, 2 }));
            Assert.That(t.flatten().data<float>().ToArray(), Is.EqualTo(new[] { 1.5f, -2, 3, 1e-3f }));
            Assert.That(file.GetInfo("pad").ElementCount, Is.EqualTo(pad));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
