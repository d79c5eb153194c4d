using HArnESS.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using HArnESS.Tensors;

namespace HArnESS.Features;

/// <summary>
/// Kaldi-compatible log-mel filterbank features, numerically matching <c>torchaudio.compliance.kaldi.fbank</c>, computed
/// with TorchSharp ops on the input's device and batched over padded waveforms. Constant tensors (window, mel bank) are
/// built once per setting and device. Instances are cheap and thread-safe (dither draws are serialised).
/// </summary>
public sealed class Fbank : WaveformFeatureExtractor
{
    private readonly Lock _ditherGate = new();
    private Generator? _ditherGenerator;

    /// <summary>Creates the extractor and validates <paramref name="options"/> (default: torchaudio defaults, 23 bins).</summary>
    /// <exception cref="HArnessConfigException">An option is invalid; the message names it.</exception>
    public Fbank(FbankOptions? options = null)
    {
        Options = options ?? new FbankOptions();
        Options.Validate();
        HArnessRuntime.EnsureInitialized();
    }

    /// <summary>The options this extractor was built with.</summary>
    public FbankOptions Options { get; }

    /// <inheritdoc/>
    public override FrameOptions Frame => Options.Frame;

    /// <inheritdoc/>
    public override int FeatureDim => Options.FeatureDim;

    /// <summary>
    /// Filterbanks of a padded batch: <c>waveforms [batch, time]</c>, <c>lengths [batch]</c> → features
    /// <c>[batch, frames, FeatureDim]</c> where every utterance's frames equal its single-utterance result and padded
    /// frames are zero, and <c>FrameLengths [batch]</c> (int64, on the waveforms' device).
    /// </summary>
    /// <exception cref="HArnessConfigException">Shapes, dtypes or lengths are inconsistent.</exception>
    /// <exception cref="HArnessDataException">An utterance is too short for one frame.</exception>
    public override (Tensor Features, Tensor FrameLengths) Compute(Tensor waveforms, Tensor lengths)
    {
        using var scope = NewDisposeScope();
        var core = ComputeCore(waveforms, lengths);
        var x = core.MelEnergies;
        if (Options.UseEnergy)
        {
            var energy = core.LogEnergy!.unsqueeze(-1);
            x = Options.HtkCompat ? torch.cat(new[] { x, energy }, -1) : torch.cat(new[] { energy, x }, -1);
        }
        var features = FeatureBatching.FinishPadded(x, core.ValidMask, core.FrameCounts, Options.SubtractMean);
        return (features.MoveToOuterDisposeScope(), torch.tensor(core.FrameCounts, device: waveforms.device).MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The shared part of Fbank and MFCC: mel energies <c>[batch, frames, bins]</c> (log or linear per options, padded
    /// frames not yet zeroed), the log energy <c>[batch, frames]</c> when <see cref="FbankOptions.UseEnergy"/>, the valid-frame
    /// mask and frame counts. Tensors are registered in the caller's dispose scope.
    /// </summary>
    internal (Tensor MelEnergies, Tensor? LogEnergy, Tensor ValidMask, long[] FrameCounts) ComputeCore(Tensor waveforms, Tensor lengths)
    {
        var lens = FeatureBatching.ReadLengths(waveforms, lengths);
        var wave = FeatureBatching.AsComputeDType(waveforms, nameof(waveforms));
        var f = Options.Frame;
        var counts = new long[lens.Length];
        for (var i = 0; i < lens.Length; i++)
        {
            counts[i] = KaldiFrames.Count(lens[i], f);
            if (counts[i] < 1)
                throw new HArnessDataException(
                    $"Utterance {i} has {lens[i]} samples, shorter than one {f.FrameLengthMs} ms frame ({f.WindowSize} samples at {f.SampleRate} Hz); " +
                    "the window is bigger than the signal.");
        }
        var maxFrames = counts.Length == 0 ? 0 : counts.Max();
        var frames = ExtractFrames(wave, lens, maxFrames);                         // [B, M, window]
        if (f.Dither != 0.0) { using var dither = f.Dither.ToScalar(); frames = frames.add(DitherNoise(frames).mul(dither), Scalars.One); }
        if (f.RemoveDcOffset) frames = frames - frames.mean(new long[] { -1 }, keepdim: true);
        Tensor? logEnergy = null;
        if (Options.UseEnergy && Options.RawEnergy) logEnergy = LogEnergy(frames);
        if (f.PreemphasisCoefficient != 0.0)
        {
            // Kaldi replicates the first sample: x[0] -= c·x[0].
            var previous = torch.cat(new[] { frames.narrow(-1, 0, 1), frames.narrow(-1, 0, f.WindowSize - 1) }, -1);
            using var coefficient = f.PreemphasisCoefficient.ToScalar();
            frames = frames - previous.mul(coefficient);
        }
        frames = frames * KaldiWindowFunction.Get(f, frames);
        if (Options.UseEnergy && !Options.RawEnergy) logEnergy = LogEnergy(frames);   // zero padding adds no energy

        var spectrum = torch.fft.rfft(frames, f.PaddedWindowSize, -1);              // [B, M, padded/2 + 1]
        Tensor power;
        if (Options.UsePower)
        {
            var ri = torch.view_as_real(spectrum);
            power = ri.pow(Scalars.Of(2L)).sum(-1);
        }
        else power = spectrum.abs();
        var mel = power.matmul(MelMatrix(power));                                    // [B, M, bins]
        if (Options.UseLogFbank) mel = mel.clamp_min(Scalars.Of(Epsilon)).log();
        return (mel, logEnergy, FeatureBatching.ValidMask(counts, maxFrames, wave.device), counts);
    }

    /// <summary><c>numeric_limits&lt;float&gt;::epsilon()</c>, Kaldi's floor before every log.</summary>
    internal const float Epsilon = 1.1920928955078125e-07f;

    private Tensor LogEnergy(Tensor frames)
    {
        var e = frames.pow(Scalars.Of(2L)).sum(-1).clamp_min(Scalars.Of(Epsilon)).log();
        using var floor = Math.Log(Options.EnergyFloor).ToScalar();
        return Options.EnergyFloor != 0.0 ? e.clamp_min(floor) : e;
    }

    private Tensor MelMatrix(Tensor like) =>
        FeatureTensorCache.Get(
            FormattableString.Invariant(
                $"melT|{Options.NumMelBins}|{Frame.PaddedWindowSize}|{Frame.SampleRate:R}|{Options.LowFreq:R}|{Options.HighFreq:R}|{Options.VtlnLow:R}|{Options.VtlnHigh:R}|{Options.VtlnWarp:R}"),
            like, () => FeatureTensorCache.FromMatrix(MelBanks.GetCached(Options)).t().contiguous());

    /// <summary>Frames <c>[batch, maxFrames, window]</c>; frames past an utterance's own count hold arbitrary samples.</summary>
    private Tensor ExtractFrames(Tensor wave, long[] lens, long maxFrames)
    {
        var f = Options.Frame;
        long window = f.WindowSize, shift = f.WindowShift, batch = wave.shape[0];
        if (maxFrames == 0) return torch.zeros(new[] { batch, 0L, window }, wave.dtype, wave.device);
        if (f.SnipEdges)
            return wave.unfold(1, window, shift).narrow(1, 0, maxFrames);           // every utterance is >= one window

        // Kaldi's reflection at both ends, per utterance (s < 0 → -s-1, s >= n → 2n-1-s, repeated until inside) is a
        // symmetric extension with period 2n: r = s mod 2n, then r >= n → 2n-1-r. Closed form, so no loop.
        var pad = window / 2 - shift / 2;
        using var shiftS = shift.ToScalar();
        using var padS = pad.ToScalar();
        var idx = Scalars.Arange(maxFrames, device: wave.device).mul(shiftS).sub(padS).view(1, -1, 1)
                  .add(Scalars.Arange(window, device: wave.device).view(1, 1, -1), Scalars.One); // [1, M, window]
        var n = torch.tensor(lens, device: wave.device).clamp_min(Scalars.One).view(-1, 1, 1);  // [B, 1, 1]
        var r = idx.remainder(n.mul(Scalars.Of(2L)));                                // [B, M, window], in [0, 2n)
        idx = torch.where(r.ge(n), n.mul(Scalars.Of(2L)).sub(Scalars.One) - r, r);
        return wave.gather(1, idx.reshape(batch, -1)).view(batch, maxFrames, window);
    }

    private Tensor DitherNoise(Tensor frames)
    {
        if (Options.Frame.DitherSeed is not { } seed)
            return torch.randn(frames.shape, frames.dtype, frames.device);
        lock (_ditherGate)
        {
            _ditherGenerator ??= new Generator((ulong)seed, torch.CPU);
            return torch.randn(frames.shape, frames.dtype, generator: _ditherGenerator).to(frames.device);
        }
    }
}
