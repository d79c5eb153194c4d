using static TorchSharp.torch;

namespace HArnESS.Downstream.Decoding;

internal static class CtcInput
{
    public static void Check(int length, int vocab, int blank)
    {
        if (vocab <= 0) throw new ArgumentOutOfRangeException(nameof(vocab), vocab, "The vocabulary size must be positive.");
        if (length % vocab != 0)
            throw new ArgumentException($"Expected [frames, {vocab}] log-probabilities, got {length} values (not a multiple of {vocab}).", "logProbs");
        if ((uint)blank >= (uint)vocab) throw new ArgumentOutOfRangeException(nameof(blank), blank, $"The blank must be in [0, {vocab}).");
    }

    public static (float[][] Rows, int Vocab) Rows(Tensor logProbs, Tensor? lengths)
    {
        ArgumentNullException.ThrowIfNull(logProbs);
        if (logProbs.dim() != 3)
            throw new ArgumentException($"Expected [batch, frames, vocab] log-probabilities, got shape [{string.Join(", ", logProbs.shape)}].", nameof(logProbs));
        long b = logProbs.shape[0], t = logProbs.shape[1], v = logProbs.shape[2];
        long[] lens;
        if (lengths is null) lens = Enumerable.Repeat(t, (int)b).ToArray();
        else
        {
            if (lengths.dim() != 1 || lengths.shape[0] != b)
                throw new ArgumentException($"Expected lengths [{b}], got shape [{string.Join(", ", lengths.shape)}].", nameof(lengths));
            lens = lengths.to(CPU).to_type(ScalarType.Int64).data<long>().ToArray();
        }
        using var cpu = logProbs.detach().to(CPU).to_type(ScalarType.Float32).contiguous();
        var all = cpu.data<float>().ToArray();
        var rows = new float[b][];
        for (var i = 0; i < b; i++)
        {
            var n = (int)Math.Clamp(lens[i], 0, t);
            rows[i] = all.AsSpan((int)(i * t * v), (int)(n * v)).ToArray();
        }
        return (rows, (int)v);
    }
}
