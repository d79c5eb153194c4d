using HArnESS.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Features;

/// <summary>
/// Kaldi-compatible MFCCs, numerically matching <c>torchaudio.compliance.kaldi.mfcc</c>: log-power mel energies, an
/// orthonormal DCT-II (<c>create_dct(..., norm='ortho')</c> with Kaldi's C0 column), cepstral liftering, optional energy
/// in place of C0, HTK ordering. Runs on the input's device, batched over padded waveforms.
/// </summary>
public sealed class Mfcc : IFeatureExtractor
{
    private readonly Fbank _fbank;

    /// <summary>Creates the extractor and validates <paramref name="options"/> (default: 13 cepstra, 23 bins, energy as C0).</summary>
    /// <exception cref="HArnessConfigException">An option is invalid; the message names it.</exception>
    public Mfcc(MfccOptions? options = null)
    {
        Options = options ?? new MfccOptions();
        Options.Validate();
        HArnessRuntime.EnsureInitialized();
        _fbank = new Fbank(Options.ToFbankOptions());
    }

    /// <summary>The options this extractor was built with.</summary>
    public MfccOptions Options { get; }

    /// <inheritdoc/>
    public FrameOptions Frame => Options.Frame;

    /// <inheritdoc/>
    public int FeatureDim => Options.FeatureDim;

    /// <inheritdoc/>
    public long FrameCount(long samples) => KaldiFrames.Count(samples, Options.Frame);

    /// <summary>MFCCs of one utterance: waveform <c>[time]</c> → <c>[frames, NumCeps]</c>.</summary>
    /// <exception cref="HArnessDataException">The waveform is too short for one frame.</exception>
    public Tensor Compute(Tensor waveform)
    {
        using var scope = NewDisposeScope();
        var batch = FeatureBatching.SingleAsBatch(waveform);
        var (features, _) = Compute(batch, torch.tensor(new[] { batch.shape[1] }));
        return features.squeeze(0).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// MFCCs of a padded batch: <c>waveforms [batch, time]</c>, <c>lengths [batch]</c> → features
    /// <c>[batch, frames, NumCeps]</c> (padded frames zero) and <c>FrameLengths [batch]</c> (int64).
    /// </summary>
    /// <exception cref="HArnessConfigException">Shapes, dtypes or lengths are inconsistent.</exception>
    /// <exception cref="HArnessDataException">An utterance is too short for one frame.</exception>
    public (Tensor Features, Tensor FrameLengths) Compute(Tensor waveforms, Tensor lengths)
    {
        using var scope = NewDisposeScope();
        var core = _fbank.ComputeCore(waveforms, lengths);
        var x = core.MelEnergies.matmul(DctMatrix(core.MelEnergies));          // [B, M, ceps], lifter folded in
        var ceps = Options.NumCeps;
        if (Options.UseEnergy)
            x = torch.cat(new[] { core.LogEnergy!.unsqueeze(-1), x.narrow(-1, 1, ceps - 1) }, -1);
        if (Options.HtkCompat)
        {
            var c0 = x.narrow(-1, 0, 1);
            // HTK's C0 lacks the 1/√2 of the orthonormal DCT; the energy column is left as it is.
            if (!Options.UseEnergy) c0 = c0 * Math.Sqrt(2.0);
            x = torch.cat(new[] { x.narrow(-1, 1, ceps - 1), c0 }, -1);
        }
        var features = FeatureBatching.FinishPadded(x, core.ValidMask, core.FrameCounts, Options.SubtractMean);
        return (features.MoveToOuterDisposeScope(), torch.tensor(core.FrameCounts, device: waveforms.device).MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Kaldi's DCT as a right-multiplied <c>[numMelBins, numCeps]</c> matrix: orthonormal DCT-II columns with column 0 =
    /// √(1/numMelBins), each column k scaled by the lifter <c>1 + L/2 · sin(πk/L)</c> (no scaling when L = 0).
    /// </summary>
    /// <exception cref="HArnessConfigException">numCeps is outside [1, numMelBins] or the lifter is negative.</exception>
    public static float[,] DctMatrix(int numMelBins, int numCeps, double cepstralLifter)
    {
        if (numMelBins < 1) throw new HArnessConfigException($"NumMelBins must be positive, got {numMelBins}.", "NumMelBins");
        if (numCeps < 1 || numCeps > numMelBins)
            throw new HArnessConfigException($"NumCeps must be in [1, NumMelBins = {numMelBins}], got {numCeps}.", "NumCeps");
        if (!(cepstralLifter >= 0)) throw new HArnessConfigException($"CepstralLifter must be >= 0, got {cepstralLifter}.", "CepstralLifter");
        var m = new float[numMelBins, numCeps];
        for (var k = 0; k < numCeps; k++)
        {
            var lifter = cepstralLifter != 0.0 ? 1.0 + 0.5 * cepstralLifter * Math.Sin(Math.PI * k / cepstralLifter) : 1.0;
            for (var n = 0; n < numMelBins; n++)
            {
                var v = k == 0
                    ? Math.Sqrt(1.0 / numMelBins)
                    : Math.Sqrt(2.0 / numMelBins) * Math.Cos(Math.PI / numMelBins * (n + 0.5) * k);
                m[n, k] = (float)(v * lifter);
            }
        }
        return m;
    }

    private Tensor DctMatrix(Tensor like) =>
        FeatureTensorCache.Get(
            FormattableString.Invariant($"dct|{Options.NumMelBins}|{Options.NumCeps}|{Options.CepstralLifter:R}"), like,
            () => FeatureTensorCache.FromMatrix(DctMatrix(Options.NumMelBins, Options.NumCeps, Options.CepstralLifter)));
}
