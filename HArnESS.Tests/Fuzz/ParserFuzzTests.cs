using System.Globalization;
using System.Text;
using HArnESS.Audio;
using HArnESS.Checkpoints;
using HArnESS.Data;
using HArnESS.Distillation.Targets;
using HArnESS.Runtime;
using NUnit.Framework;
using HArnESS.Serialization;
using static TorchSharp.torch;

namespace HArnESS.Tests.Fuzz;

/// <summary>
/// Seeded mutation fuzzing of every file parser against the shipped fixtures: bit flips, byte sets, truncations,
/// splices, deletions, length-field tweaks and text-token insertions, a fixed number of cases per format with fixed
/// seeds (the same cases every run). A case passes when the parser loads the file or refuses it with a
/// <see cref="HArnessException"/>; any other exception, a hang (no return within <see cref="CaseTimeoutMs"/>) or an
/// allocation the file cannot justify fails the test, naming the seed so the case can be replayed.
/// </summary>
/// <remarks>
/// Set <c>HARNESS_FUZZ_CASES</c> to run more cases per format (a longer local campaign); CI runs the default.
/// </remarks>
[TestFixture]
public sealed class ParserFuzzTests
{
    private const int DefaultCases = 150;
    private const int CaseTimeoutMs = 10_000;

    /// <summary>Managed bytes a case may allocate, and bytes of tensors it may load: far above any valid fixture's need.</summary>
    private const long MaxBytesPerCase = 256L << 20;

    private string _dir = "";

    private static int Cases =>
        int.TryParse(Environment.GetEnvironmentVariable("HARNESS_FUZZ_CASES"), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n : DefaultCases;

    [OneTimeSetUp]
    public void Start()
    {
        HArnessRuntime.EnsureInitialized();
        _dir = Path.Combine(Path.GetTempPath(), "harness-fuzz-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [OneTimeTearDown]
    public void Stop() => Directory.Delete(_dir, recursive: true);

    private static string Fixture(params string[] parts) =>
        Path.Combine([TestContext.CurrentContext.TestDirectory, "Fixtures", .. parts]);

    private static string Demo(string name) => Path.Combine(TestPaths.RepoRoot, "data", "demo", name);

    private static long LoadAll(IEnumerable<CheckpointTensor> tensors)
    {
        long bytes = 0;
        foreach (var t in tensors)
        {
            using var loaded = t.Load();
            bytes += loaded.NumberOfElements * loaded.ElementSize;
            if (bytes > MaxBytesPerCase) Assert.Fail($"loaded {bytes} tensor bytes from a fuzzed file");
        }
        return bytes;
    }

    private static void ReadSafeTensors(string path)
    {
        using var f = SafeTensors.Open(path);
        LoadAll(f.Keys.Select(f.GetTensor));
    }

    private static void ReadPickle(string path)
    {
        using var reader = TorchPickleReader.Open(path);
        LoadAll(reader.Tensors().Values);
    }

    private static void ReadCheckpoint(string path)
    {
        using var contents = CheckpointLoader.LoadStateDict(path);
    }

    [TestCase("safetensors", "Checkpoints/formats.safetensors")]
    [TestCase("safetensors", "Checkpoints/parity/base_hf/model.safetensors")]
    public void SafeTensorsFiles(string format, string fixture) => Fuzz(format, Fixture(fixture.Split('/')), ".safetensors", ReadSafeTensors);

    [TestCase("zip-pt", "Checkpoints/state_dict_zip.pt")]
    [TestCase("legacy-pt", "Checkpoints/state_dict_legacy.pt")]
    [TestCase("fairseq-pt", "Checkpoints/fairseq_like.pt")]
    [TestCase("torchaudio-pt", "Checkpoints/parity/base_torchaudio.pt")]
    public void PickleFiles(string format, string fixture) => Fuzz(format, Fixture(fixture.Split('/')), ".pt", ReadPickle);

    [Test]
    public void PickleFilesReadLeniently() => Fuzz("lenient-pt", Fixture("Checkpoints", "unknown_global.pt"), ".pt", p =>
    {
        using var reader = TorchPickleReader.Open(p, new TorchPickleOptions { AllowUnknownGlobals = true });
        LoadAll(reader.Tensors().Values);
    });

    [TestCase("fairseq-pt", "Checkpoints/parity/base_fairseq.pt")]
    public void EncoderCheckpoints(string format, string fixture) => Fuzz(format, Fixture(fixture.Split('/')), ".pt", ReadCheckpoint);

    [Test]
    public void HuggingFaceFolderConfig()
    {
        // The folder's config.json mutated, its weights intact: CheckpointLoader reads both.
        var folder = Path.Combine(_dir, "hf");
        Directory.CreateDirectory(folder);
        File.Copy(Fixture("Checkpoints", "parity", "base_hf", "model.safetensors"), Path.Combine(folder, "model.safetensors"));
        Fuzz("hf-config", Fixture("Checkpoints", "parity", "base_hf", "config.json"), "config.json",
            _ => { using var c = CheckpointLoader.LoadStateDict(folder); }, fixedPath: Path.Combine(folder, "config.json"));
    }

    [TestCase("pcm16.wav")]
    [TestCase("float32_stereo.wav")]
    [TestCase("pcm24_6ch.wav")]
    [TestCase("pcm8.wav")]
    public void WavFiles(string fixture) => Fuzz("wav", Fixture("Audio", "wav", fixture), ".wav", p => WavReader.Read(p));

    [TestCase("test.tsv")]
    public void Manifests(string fixture) => Fuzz("manifest", Demo(fixture), ".tsv", p => _ = Manifest.Load(p).TotalSamples);

    // Letter and word transcripts accept any text; class labels refuse spaces.
    [TestCase("test.ltr", true)]
    [TestCase("test.wrd", true)]
    [TestCase("test.emo", false)]
    public void LabelFiles(string fixture, bool acceptsAnyText) => Fuzz("labels", Demo(fixture), Path.GetExtension(fixture), p =>
    {
        var labels = LabelFile.Load(p);
        for (int i = 0; i < labels.Count; i++) _ = labels.Kind == LabelKind.Class ? labels.ClassId(i) : labels.Text(i).Length;
    }, acceptsAnyText: acceptsAnyText);

    [Test]
    public void UnitLabelFiles()
    {
        var seed = Path.Combine(_dir, "seed.km");
        File.WriteAllText(seed, "0 0 3 3 3 17\n499 2 2\n\n12\n");
        Fuzz("labels", seed, ".km", p =>
        {
            var labels = LabelFile.Load(p);
            for (int i = 0; i < labels.Count; i++) _ = labels.Units(i).Count;
        });
    }

    [TestCase(".npy")]
    [TestCase(".len")]
    public void FeatureShards(string which)
    {
        // A shard of 5 rows x 3 floats in two utterances, as FeatureDumper writes it; one of its two files mutated.
        var shard = Path.Combine(_dir, "shard" + which);
        Directory.CreateDirectory(shard);
        var npy = (byte[])[.. FeatureShardFormatTests.NpyHeader(FeatureShardFormatTests.Dict("5", "3")),
            .. System.Runtime.InteropServices.MemoryMarshal.AsBytes(Enumerable.Range(0, 15).Select(i => i * 0.5f).ToArray().AsSpan()).ToArray()];
        FeatureShardFormatTests.WriteShard(shard, npy, "2\n3\n", 5, 3);
        var target = FeatureDumper.ShardPath(shard, "s", 0, 1, which);
        var seed = Path.Combine(_dir, "seed" + which);
        File.Copy(target, seed);
        Fuzz(which.TrimStart('.'), seed, which, _ =>
        {
            var source = new FeatureShardSource(shard, "s", 1);
            foreach (var (_, f) in source.ReadUtterances()) f.Dispose();
        }, fixedPath: target);
    }

    /// <summary>Runs <see cref="Cases"/> mutations of <paramref name="seedFile"/> through <paramref name="parse"/>.</summary>
    private void Fuzz(string format, string seedFile, string extension, Action<string> parse, string? fixedPath = null,
        bool acceptsAnyText = false)
    {
        var original = File.ReadAllBytes(seedFile);
        var unchanged = fixedPath ?? Path.Combine(_dir, $"{format}_seed{extension}");
        if (!string.Equals(Path.GetFullPath(seedFile), Path.GetFullPath(unchanged), StringComparison.Ordinal))
            File.Copy(seedFile, unchanged, overwrite: true);
        var baseline = Bounded.Run(() => parse(unchanged), $"{format}: the unmutated fixture", CaseTimeoutMs, MaxBytesPerCase);
        Assert.That(baseline.Error, Is.Null, $"{format}: the unmutated fixture {seedFile} must load");
        // Each format/fixture pair has its own fixed seed stream (a stable hash of its name, not string.GetHashCode).
        int baseSeed = 0;
        foreach (var c in format + "/" + Path.GetFileName(seedFile)) baseSeed = unchecked(baseSeed * 31 + c);
        var failures = new List<string>();
        int refused = 0, loaded = 0;
        for (int i = 0; i < Cases && failures.Count < 5; i++)
        {
            int seed = unchecked(baseSeed + i * 7919);
            var (bytes, how) = Mutator.Mutate(original, new Random(seed));
            var path = fixedPath ?? Path.Combine(_dir, $"{format}_{i}{extension}");
            File.WriteAllBytes(path, bytes);
            var outcome = Bounded.Run(() =>
            {
                using var scope = NewDisposeScope();
                parse(path);
            }, $"{format} case {i} (seed {seed}: {how})", CaseTimeoutMs, MaxBytesPerCase);
            if (outcome.Error is null) loaded++;
            else if (outcome.Error is HArnessException he && he.Message.Length > 0) refused++;
            else failures.Add($"case {i} (seed {seed}: {how}): {outcome.Error.GetType().FullName}: {outcome.Error.Message}\n{outcome.Error.StackTrace}");
            if (fixedPath is null) File.Delete(path);
        }
        if (fixedPath is not null) File.Copy(seedFile, fixedPath, overwrite: true);
        TestContext.Out.WriteLine($"{format} {Path.GetFileName(seedFile)}: {loaded} loaded, {refused} refused by name, {failures.Count} failed");
        Assert.That(failures, Is.Empty, $"{format}: mutated files escaped as other exceptions:\n" + string.Join("\n", failures));
        if (!acceptsAnyText) Assert.That(refused, Is.Positive, "no mutation was refused: the mutator is not reaching the parser");
    }
}

/// <summary>Seeded byte-level mutations, one to three per case.</summary>
internal static class Mutator
{
    private static readonly long[] Interesting =
    [
        0, 1, 2, -1, 7, 8, 255, 256, 0x7fff, 0x8000, 0xffff, 0x10000, int.MaxValue, (long)int.MaxValue + 1, uint.MaxValue,
        1L << 32, 1L << 40, 1L << 62, long.MaxValue, long.MinValue,
    ];

    private static readonly string[] Tokens =
    [
        "\0", "-1", "0", "99999999999999999999", "9223372036854775807", "9223372036854775808", "2147483648", "1e400", "NaN",
        "\u0663", "\u0967", "\t", "\n", "\r\n", "\"", "'", "{", "}", "[", "]", ",", ":", "true", "null", "\\u0000", "\\", "\\x",
        "\\u12", "\xff", "(", ")", "L", ".", "4611686018427387904", "2147483646",
    ];

    public static (byte[] Bytes, string How) Mutate(byte[] original, Random rng)
    {
        var data = new List<byte>(original);
        var how = new List<string>();
        int ops = 1 + rng.Next(3);
        for (int k = 0; k < ops; k++)
        {
            if (data.Count == 0) data.Add(0);
            int pos = rng.Next(data.Count);
            switch (rng.Next(8))
            {
                case 0:
                    int bit = rng.Next(8);
                    data[pos] ^= (byte)(1 << bit);
                    how.Add($"flip bit {bit} at {pos}");
                    break;
                case 1:
                    byte[] values = [0, 1, 0x7f, 0x80, 0xff, (byte)'\n', (byte)'\t', (byte)'9', (byte)'-', (byte)rng.Next(256)];
                    var v = values[rng.Next(values.Length)];
                    data[pos] = v;
                    how.Add($"set {pos} to 0x{v:x2}");
                    break;
                case 2:
                    int keep = rng.Next(data.Count);
                    data.RemoveRange(keep, data.Count - keep);
                    how.Add($"truncate to {keep}");
                    break;
                case 3:
                {
                    int from = rng.Next(original.Length), len = Math.Min(1 + rng.Next(64), original.Length - from);
                    data.InsertRange(pos, original.AsSpan(from, len).ToArray());
                    how.Add($"splice {len} bytes from {from} into {pos}");
                    break;
                }
                case 4:
                {
                    int len = Math.Min(1 + rng.Next(32), data.Count - pos);
                    data.RemoveRange(pos, len);
                    how.Add($"delete {len} at {pos}");
                    break;
                }
                case 5:
                {
                    int width = new[] { 1, 2, 4, 8 }[rng.Next(4)];
                    if (pos + width > data.Count) pos = Math.Max(0, data.Count - width);
                    if (data.Count < width) break;
                    long old = 0;
                    for (int b = width - 1; b >= 0; b--) old = (old << 8) | data[pos + b];
                    long nv = rng.Next(4) switch
                    {
                        0 => old + 1,
                        1 => old - 1,
                        2 => old << (1 + rng.Next(31)),
                        _ => Interesting[rng.Next(Interesting.Length)],
                    };
                    for (int b = 0; b < width; b++) data[pos + b] = (byte)(nv >> (8 * b));
                    how.Add($"set {width}-byte field at {pos} from {old} to {nv}");
                    break;
                }
                case 6:
                {
                    var t = Tokens[rng.Next(Tokens.Length)];
                    var tb = Encoding.UTF8.GetBytes(t);
                    if (rng.Next(2) == 0) data.InsertRange(pos, tb);
                    else
                    {
                        data.RemoveRange(pos, Math.Min(tb.Length, data.Count - pos));
                        data.InsertRange(pos, tb);
                    }
                    how.Add($"token '{Escape(t)}' at {pos}");
                    break;
                }
                default:
                {
                    // A run of ASCII digits (a JSON number, a manifest count, a header shape) replaced by a token.
                    int start = -1;
                    for (int s = 0; s < data.Count; s++)
                    {
                        int at = (pos + s) % data.Count;
                        if (data[at] is >= (byte)'0' and <= (byte)'9') { start = at; break; }
                    }
                    if (start < 0) break;
                    while (start > 0 && data[start - 1] is >= (byte)'0' and <= (byte)'9') start--;
                    int end = start;
                    while (end < data.Count && data[end] is >= (byte)'0' and <= (byte)'9') end++;
                    var t = Tokens[rng.Next(Tokens.Length)];
                    data.RemoveRange(start, end - start);
                    data.InsertRange(start, Encoding.UTF8.GetBytes(t));
                    how.Add($"number at {start} -> '{Escape(t)}'");
                    break;
                }
            }
        }
        return (data.ToArray(), string.Join(", ", how));
    }

    private static string Escape(string s) => string.Concat(s.Select(c => c < 32 || c > 126 ? $"\\u{(int)c:x4}" : c.ToString()));
}
