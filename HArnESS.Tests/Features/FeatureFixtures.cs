using System.Text.Json;
using HArnESS.Features;
using static TorchSharp.torch;

namespace HArnESS.Tests.Features;

/// <summary>Reads the torchaudio reference fixtures written by scripts/fixtures/make_feature_fixtures.py.</summary>
public static class FeatureFixtures
{
    public static string Dir => Path.Combine(AppContext.BaseDirectory, "Fixtures", "Features");

    private static readonly Lazy<JsonDocument> Manifest =
        new(() => JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir, "manifest.json"))));

    public static JsonElement Root => Manifest.Value.RootElement;

    public static float[] ReadFloats(string file)
    {
        var bytes = File.ReadAllBytes(Path.Combine(Dir, file));
        var values = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, values, 0, values.Length * 4);   // fixtures are little-endian, as is every test host
        return values;
    }

    public static Tensor Signal(string name)
    {
        foreach (var s in Root.GetProperty("signals").EnumerateArray())
            if (s.GetProperty("name").GetString() == name)
                return tensor(ReadFloats(s.GetProperty("file").GetString()!));
        throw new ArgumentException($"no fixture signal '{name}'");
    }

    public static IEnumerable<string> SignalNames() =>
        Root.GetProperty("signals").EnumerateArray().Select(s => s.GetProperty("name").GetString()!);

    public sealed record Case(string Name, string Kind, string Signal, JsonElement Options, string File, int Frames, int Dim, bool Float64)
    {
        /// <summary>The input waveform in the precision torchaudio was run in.</summary>
        public Tensor Wave()
        {
            var w = FeatureFixtures.Signal(Signal);
            return Float64 ? w.to(ScalarType.Float64) : w;
        }

        public override string ToString() => $"{Name}__{Signal}";

        public Tensor Expected() => tensor(ReadFloats(File), new long[] { Frames, Dim });

        /// <summary>The extractor for this case, built from torchaudio's keyword arguments on top of torchaudio's defaults.</summary>
        public IFeatureExtractor Extractor() => Kind switch
        {
            "fbank" => new Fbank(FbankFromKwargs(Options)),
            "mfcc" => new Mfcc(MfccFromKwargs(Options)),
            "hubert39" => new HubertMfcc39(),
            _ => throw new ArgumentException(Kind),
        };
    }

    public static IEnumerable<Case> Cases() =>
        Root.GetProperty("cases").EnumerateArray().Select(c => new Case(
            c.GetProperty("case").GetString()!, c.GetProperty("kind").GetString()!, c.GetProperty("signal").GetString()!,
            c.GetProperty("options").Clone(), c.GetProperty("file").GetString()!, c.GetProperty("frames").GetInt32(),
            c.GetProperty("dim").GetInt32(), c.GetProperty("dtype").GetString() == "float64"));

    public static FrameOptions FrameFromKwargs(JsonElement o)
    {
        var f = new FrameOptions();
        foreach (var p in o.EnumerateObject())
            f = p.Name switch
            {
                "snip_edges" => f with { SnipEdges = p.Value.GetBoolean() },
                "window_type" => f with { WindowType = Enum.Parse<KaldiWindowType>(p.Value.GetString()!, ignoreCase: true) },
                "remove_dc_offset" => f with { RemoveDcOffset = p.Value.GetBoolean() },
                "blackman_coeff" => f with { BlackmanCoefficient = p.Value.GetDouble() },
                "round_to_power_of_two" => f with { RoundToPowerOfTwo = p.Value.GetBoolean() },
                "frame_length" => f with { FrameLengthMs = p.Value.GetDouble() },
                "frame_shift" => f with { FrameShiftMs = p.Value.GetDouble() },
                "preemphasis_coefficient" => f with { PreemphasisCoefficient = p.Value.GetDouble() },
                _ => f,
            };
        return f;
    }

    public static FbankOptions FbankFromKwargs(JsonElement o)
    {
        var x = new FbankOptions { Frame = FrameFromKwargs(o) };
        foreach (var p in o.EnumerateObject())
            x = p.Name switch
            {
                "num_mel_bins" => x with { NumMelBins = p.Value.GetInt32() },
                "use_energy" => x with { UseEnergy = p.Value.GetBoolean() },
                "raw_energy" => x with { RawEnergy = p.Value.GetBoolean() },
                "energy_floor" => x with { EnergyFloor = p.Value.GetDouble() },
                "htk_compat" => x with { HtkCompat = p.Value.GetBoolean() },
                "use_log_fbank" => x with { UseLogFbank = p.Value.GetBoolean() },
                "use_power" => x with { UsePower = p.Value.GetBoolean() },
                "low_freq" => x with { LowFreq = p.Value.GetDouble() },
                "high_freq" => x with { HighFreq = p.Value.GetDouble() },
                "subtract_mean" => x with { SubtractMean = p.Value.GetBoolean() },
                "vtln_warp" => x with { VtlnWarp = p.Value.GetDouble() },
                _ => x,
            };
        return x;
    }

    public static MfccOptions MfccFromKwargs(JsonElement o)
    {
        var x = new MfccOptions { Frame = FrameFromKwargs(o), UseEnergy = false };   // torchaudio's mfcc default is use_energy=False
        foreach (var p in o.EnumerateObject())
            x = p.Name switch
            {
                "num_mel_bins" => x with { NumMelBins = p.Value.GetInt32() },
                "num_ceps" => x with { NumCeps = p.Value.GetInt32() },
                "cepstral_lifter" => x with { CepstralLifter = p.Value.GetDouble() },
                "use_energy" => x with { UseEnergy = p.Value.GetBoolean() },
                "raw_energy" => x with { RawEnergy = p.Value.GetBoolean() },
                "energy_floor" => x with { EnergyFloor = p.Value.GetDouble() },
                "htk_compat" => x with { HtkCompat = p.Value.GetBoolean() },
                "low_freq" => x with { LowFreq = p.Value.GetDouble() },
                "high_freq" => x with { HighFreq = p.Value.GetDouble() },
                "subtract_mean" => x with { SubtractMean = p.Value.GetBoolean() },
                _ => x,
            };
        return x;
    }

    public static double MaxAbsDiff(Tensor a, Tensor b)
    {
        using var d = (a.to(ScalarType.Float64) - b.to(ScalarType.Float64)).abs().max();
        return d.item<double>();
    }
}
