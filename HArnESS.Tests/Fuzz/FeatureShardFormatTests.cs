using System.Text;
using System.Text.Json;
using HArnESS.Distillation.Targets;
using NUnit.Framework;

namespace HArnESS.Tests.Fuzz;

/// <summary>
/// The <c>.npy</c> + <c>.len</c> shard pair a feature dump leaves, read back by <see cref="FeatureShardSource"/>: every
/// malformed header or length list is a named error before anything is allocated from it.
/// </summary>
[TestFixture]
public sealed class FeatureShardFormatTests
{
    private string _dir = "";

    [SetUp]
    public void CreateDir()
    {
        _dir = Path.Combine(Path.GetTempPath(), "harness-npy-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [TearDown]
    public void DeleteDir() => Directory.Delete(_dir, recursive: true);

    /// <summary>NumPy 1.0 header (magic, version, 2-byte length, dict padded with spaces to 64-byte alignment).</summary>
    internal static byte[] NpyHeader(string dict, byte major = 1, int? declaredLength = null)
    {
        int prefix = major == 1 ? 10 : 12;
        var text = dict;
        int total = (prefix + text.Length + 1 + 63) / 64 * 64;
        text = text.PadRight(total - prefix - 1) + "\n";
        var ms = new MemoryStream();
        ms.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', major, 0]);
        int len = declaredLength ?? text.Length;
        if (major == 1) ms.Write(BitConverter.GetBytes((ushort)len));
        else ms.Write(BitConverter.GetBytes((uint)len));
        ms.Write(Encoding.ASCII.GetBytes(text));
        return ms.ToArray();
    }

    internal static string Dict(string rows, string dim) => $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {dim}), }}";

    /// <summary>Writes shard 0 of 1 of split "s": the .npy bytes, the .len text and a .done marker.</summary>
    internal static void WriteShard(string dir, byte[] npy, string len, long frames = 0, int dim = 0)
    {
        File.WriteAllBytes(FeatureDumper.ShardPath(dir, "s", 0, 1, ".npy"), npy);
        File.WriteAllText(FeatureDumper.ShardPath(dir, "s", 0, 1, ".len"), len);
        File.WriteAllText(FeatureDumper.ShardPath(dir, "s", 0, 1, ".done"),
            JsonSerializer.Serialize(new FeatureShardInfo(0, 1, 0, len.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length, frames, dim, "sig", true)));
    }

    private static byte[] Concat(byte[] a, int floats) => [.. a, .. new byte[floats * 4]];

    [Test]
    public void ReadsAWellFormedShard()
    {
        var data = new float[] { 1, 2, 3, 4, 5, 6 };
        WriteShard(_dir, [.. NpyHeader(Dict("3", "2")), .. PickleWriterBytes(data)], "1\n2\n", 3, 2);
        var source = new FeatureShardSource(_dir, "s", 1);
        Assert.That(source.Rows, Is.EqualTo(3));
        Assert.That(source.Dimension, Is.EqualTo(2));
        var utts = source.ReadUtterances().Select(u => { using (u.Features) return u.Features.flatten().data<float>().ToArray(); }).ToList();
        Assert.That(utts, Is.EqualTo(new[] { new float[] { 1, 2 }, new float[] { 3, 4, 5, 6 } }));
    }

    private static byte[] PickleWriterBytes(float[] v) => System.Runtime.InteropServices.MemoryMarshal.AsBytes(v.AsSpan()).ToArray();

    [TestCase("3", "99999999999", TestName = "RefusesANpyDimensionPastInt")]
    [TestCase("3", "0", TestName = "RefusesANpyDimensionOfZero")]
    [TestCase("99999999999999999999999", "2", TestName = "RefusesANpyRowCountPast64Bits")]
    [TestCase("4611686018427387904", "2", TestName = "RefusesANpyShapeWhoseByteSizeWraps")]
    [TestCase("\u0663", "2", TestName = "RefusesNonAsciiDigitsInANpyShape")]
    public void RefusesABadNpyShape(string rows, string dim)
    {
        WriteShard(_dir, Concat(NpyHeader(Dict(rows, dim)), 6), "3\n");
        var e = Assert.Throws(Is.InstanceOf<HArnessException>(), () => _ = new FeatureShardSource(_dir, "s", 1))!;
        Assert.That(e.Message, Does.Contain(".npy"));
    }

    [TestCase(1, 60000, TestName = "RefusesANpyHeaderLengthPastTheEndOfTheFile")]
    [TestCase(2, 60000, TestName = "RefusesANpy2HeaderLengthPastTheEndOfTheFile")]
    [TestCase(2, int.MaxValue, TestName = "RefusesAHugeNpy2HeaderLength")]
    public void RefusesABadNpyHeaderLength(int major, int declared)
    {
        WriteShard(_dir, Concat(NpyHeader(Dict("3", "2"), (byte)major, declared), 6), "3\n");
        var e = Assert.Throws<HArnessFormatException>(() => _ = new FeatureShardSource(_dir, "s", 1))!;
        Assert.That(e.Message, Does.Contain("header length"));
    }

    [Test]
    public void RefusesLengthsWhoseSumOverflows()
    {
        WriteShard(_dir, Concat(NpyHeader(Dict("3", "2")), 6), $"{long.MaxValue}\n{long.MaxValue}\n3\n");
        var e = Assert.Throws<HArnessDataException>(() => _ = new FeatureShardSource(_dir, "s", 1))!;
        Assert.That(e.Message, Does.Contain("line 1").And.Contain("3 rows"));
    }

    [TestCase("-1\n4\n", TestName = "RefusesANegativeLength")]
    [TestCase("\u0663\n", TestName = "RefusesNonAsciiDigitsInALengthFile")]
    [TestCase("1e3\n", TestName = "RefusesAnExponentInALengthFile")]
    public void RefusesABadLength(string len)
    {
        WriteShard(_dir, Concat(NpyHeader(Dict("3", "2")), 6), len);
        var e = Assert.Throws<HArnessFormatException>(() => _ = new FeatureShardSource(_dir, "s", 1))!;
        Assert.That(e.Message, Does.Contain("is not a frame count"));
    }
}
