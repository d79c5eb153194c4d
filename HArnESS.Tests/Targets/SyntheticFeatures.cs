using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Tests.Targets;

/// <summary>
/// A seeded Gaussian-mixture feature matrix that is bit-identical to <c>scripts/fixtures/synthetic_mixture.py</c>, so
/// parity tests and benchmarks against sklearn run on the same data without storing it. Only exactly representable
/// steps feed the values (24-bit uniforms from splitmix64, Irwin–Hall normals, IEEE double multiply/add, one rounding
/// to float32), which is why both languages agree to the bit.
/// </summary>
internal static class SyntheticFeatures
{
    /// <summary>Generates <paramref name="rows"/> frames of <paramref name="dim"/> features drawn from
    /// <paramref name="components"/> anisotropic Gaussians with unequal weights.</summary>
    /// <param name="seed">Generator seed.</param>
    /// <param name="rows">Frames to draw.</param>
    /// <param name="dim">Feature dimension.</param>
    /// <param name="components">Mixture components.</param>
    /// <param name="spread">Scale of the component means (each mean coordinate is <c>spread × N(0,1)</c>); the
    /// per-dimension standard deviations lie in [0.5, 1.5).</param>
    /// <returns>float32 <c>[rows, dim]</c> on the CPU.</returns>
    /// <exception cref="HArnessConfigException">A size is not positive.</exception>
    public static Tensor Generate(ulong seed, int rows, int dim, int components, double spread = 4.0)
    {
        if (rows <= 0) throw new HArnessConfigException($"rows must be positive, got {rows}.", nameof(rows));
        if (dim <= 0) throw new HArnessConfigException($"dim must be positive, got {dim}.", nameof(dim));
        if (components <= 0) throw new HArnessConfigException($"components must be positive, got {components}.", nameof(components));
        HArnESS.Runtime.HArnessRuntime.EnsureNative();
        var rng = new SplitMix64(seed);
        var means = new double[components, dim];
        var scales = new double[components, dim];
        for (var c = 0; c < components; c++)
            for (var d = 0; d < dim; d++)
            {
                means[c, d] = spread * rng.Normal();
                scales[c, d] = 0.5 + rng.Uniform();
            }
        var data = new float[(long)rows * dim];
        for (var i = 0; i < rows; i++)
        {
            var u = rng.Uniform();
            var c = (int)(u * u * components);
            for (var d = 0; d < dim; d++)
                data[(long)i * dim + d] = (float)(means[c, d] + scales[c, d] * rng.Normal());
        }
        return torch.tensor(data, [rows, dim]);
    }

    private struct SplitMix64(ulong seed)
    {
        private ulong _state = seed;

        private ulong Next()
        {
            _state += 0x9E3779B97F4A7C15UL;
            var z = _state;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        public double Uniform() => (Next() >> 40) / 16777216.0;

        public double Normal()
        {
            var s = 0.0;
            for (var i = 0; i < 12; i++) s += Uniform();
            return s - 6.0;
        }
    }
}
