using HArnESS.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using HArnESS.Tensors;

namespace HArnESS.Features;

/// <summary>
/// Kaldi-compatible MFCCs, numerically matching <c>torchaudio.compliance.kaldi.mfcc</c>: log-power mel energies, an
/// orthonormal DCT-II (<c>create_dct(..., norm='ortho')</c> with Kaldi's C0 column), cepstral liftering, optional energy
/// in place of C0, HTK ordering. Runs on the input's device, batched over padded waveforms.
/// </summary>
public sealed class Mfcc : WaveformFeatureExtractor
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
    public override FrameOptions Frame => Options.Frame;

    /// <inheritdoc/>
    public override int FeatureDim => Options.FeatureDim;

    /// <summary>
    /// MFCCs of a padded batch: <c>waveforms [batch, time]</c>, <c>lengths [batch]</c> → features
    /// <c>[batch, frames, NumCeps]</c> (padded frames zero) and <c>FrameLengths [batch]</c> (int64).
    /// </summary>
    /// <exception cref="HArnessConfigException">Shapes, dtypes or lengths are inconsistent.</exception>
    /// <exception cref="HArnessDataException">An utterance is too short for one frame.</exception>
    public override (Tensor Features, Tensor FrameLengths) Compute(Tensor waveforms, Tensor lengths)
    {
        using var scope = NewDisposeScope();
        var core = _fbank.ComputeCore(waveforms, lengths);
        var x = core.MelEnergies.matmul(DctMatrix(core.MelEnergies));          // [B, M, ceps]
        if (Options.CepstralLifter != 0.0) x = x * Lifter(x);
        var ceps = Options.NumCeps;
        if (Options.UseEnergy)
            x = torch.cat(new[] { core.LogEnergy!.unsqueeze(-1), x.narrow(-1, 1, ceps - 1) }, -1);
        if (Options.HtkCompat)
        {
            var c0 = x.narrow(-1, 0, 1);
            // HTK's C0 lacks the 1/√2 of the orthonormal DCT; the energy column is left as it is.
            if (!Options.UseEnergy) c0 = c0.mul(Scalars.Of(Math.Sqrt(2.0)));
            x = torch.cat(new[] { x.narrow(-1, 1, ceps - 1), c0 }, -1);
        }
        var features = FeatureBatching.FinishPadded(x, core.ValidMask, core.FrameCounts, Options.SubtractMean);
        return (features.MoveToOuterDisposeScope(), torch.tensor(core.FrameCounts, device: waveforms.device).MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The DCT as a right-multiplied <c>[numMelBins, numCeps]</c> matrix: orthonormal DCT-II columns
    /// (<c>torchaudio.functional.create_dct(n, n, 'ortho')</c>) with column 0 = √(1/numMelBins) as Kaldi. Computed with
    /// torchaudio's float32 tensor arithmetic: its cosines of float32 arguments differ from double-precision ones by up
    /// to ~2e-4 in the cepstra, and torchaudio (HuBERT's reference) is what these features must match.
    /// </summary>
    /// <exception cref="HArnessConfigException">numCeps is outside [1, numMelBins].</exception>
    public static float[,] DctMatrix(int numMelBins, int numCeps)
    {
        if (numMelBins < 1) throw new HArnessConfigException($"NumMelBins must be positive, got {numMelBins}.", "NumMelBins");
        if (numCeps < 1 || numCeps > numMelBins)
            throw new HArnessConfigException($"NumCeps must be in [1, NumMelBins = {numMelBins}], got {numCeps}.", "NumCeps");
        HArnessRuntime.EnsureInitialized();
        float[] flat;
        using (NewDisposeScope())
        {
            var n = Scalars.Arange(numMelBins, dtype: ScalarType.Float32);
            var k = Scalars.Arange(numMelBins, dtype: ScalarType.Float32).unsqueeze(1);
            using var piOverN = (Math.PI / numMelBins).ToScalar();
            using var norm = Math.Sqrt(2.0 / numMelBins).ToScalar();
            var dct = torch.cos(n.add(Scalars.Of(0.5), Scalars.One).mul(piOverN).mul(k));   // [k, n]
            dct[0] = dct[0].mul(Scalars.Of(1.0 / Math.Sqrt(2.0)));
            dct = dct.mul(norm).t().contiguous();                                         // [n, k]
            dct[TensorIndex.Colon, 0] = torch.tensor((float)Math.Sqrt(1.0 / numMelBins));
            flat = dct.narrow(1, 0, numCeps).contiguous().data<float>().ToArray();
        }
        var m = new float[numMelBins, numCeps];
        Buffer.BlockCopy(flat, 0, m, 0, flat.Length * sizeof(float));
        return m;
    }

    /// <summary>
    /// Cepstral lifter weights <c>1 + L/2 · sin(πi/L)</c> for i = 0..numCeps-1 (torchaudio's float32 arithmetic); all ones when L = 0.
    /// </summary>
    /// <exception cref="HArnessConfigException"><paramref name="cepstralLifter"/> is negative or <paramref name="numCeps"/> &lt; 1.</exception>
    public static float[] LifterCoefficients(int numCeps, double cepstralLifter)
    {
        if (numCeps < 1) throw new HArnessConfigException($"NumCeps must be positive, got {numCeps}.", "NumCeps");
        if (!(cepstralLifter >= 0)) throw new HArnessConfigException($"CepstralLifter must be >= 0, got {cepstralLifter}.", "CepstralLifter");
        if (cepstralLifter == 0.0) return Enumerable.Repeat(1f, numCeps).ToArray();
        HArnessRuntime.EnsureInitialized();
        using var scope = NewDisposeScope();
        var i = Scalars.Arange(numCeps, dtype: ScalarType.Int64);
        using var lifter = cepstralLifter.ToScalar();
        using var halfLifter = (0.5 * cepstralLifter).ToScalar();
        return torch.sin(i.mul(Scalars.Of(Math.PI)).div(lifter)).mul(halfLifter).add(Scalars.Of(1.0), Scalars.One).to(ScalarType.Float32).data<float>().ToArray();
    }

    private Tensor DctMatrix(Tensor like) =>
        FeatureTensorCache.Get(FormattableString.Invariant($"dct|{Options.NumMelBins}|{Options.NumCeps}"), like,
            () => FeatureTensorCache.FromMatrix(DctMatrix(Options.NumMelBins, Options.NumCeps)));

    private Tensor Lifter(Tensor like) =>
        FeatureTensorCache.Get(FormattableString.Invariant($"lifter|{Options.NumCeps}|{Options.CepstralLifter:R}"), like,
            () => torch.tensor(LifterCoefficients(Options.NumCeps, Options.CepstralLifter)));
}
