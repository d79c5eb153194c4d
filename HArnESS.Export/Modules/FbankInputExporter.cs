using HArnESS.Export.Graph;
using HArnESS.Features;
using HArnESS.Modules;

namespace HArnESS.Export.Modules;

/// <summary>The preprocessing of fbank-based front-ends (<see cref="FbankInput"/>): the input scale is folded into
/// the fbank's spectrum kernel (it is linear), then the in-graph Kaldi fbank, then the global CMVN
/// <c>(x - mean)·scale</c>. With <c>fromFeatures</c> the graph starts at raw fbanks and applies only the CMVN.</summary>
internal static class FbankInputExporter
{
    public static void Validate(FbankInput input, ValidationErrors errors, string prefix) =>
        KaldiFbankExporter.Validate(input.Options, errors, prefix + ".Options");

    public static (string Features, string Lengths) Write(OnnxGraphBuilder g, string signal, string lengths, FbankInput input, bool fromFeatures)
    {
        var (x, l) = fromFeatures ? (signal, lengths) : KaldiFbankExporter.Write(g, signal, lengths, input.Options, input.InputScale);
        if (input.Cmvn is { } cmvn)
        {
            var mean = g.Initializer("cmvn.mean", cmvn.Mean.Select(v => (float)v).ToArray(), cmvn.Dim);
            var scale = g.Initializer("cmvn.scale", cmvn.Scale.Select(v => (float)v).ToArray(), cmvn.Dim);
            x = g.Mul(g.Sub(x, mean), scale);
        }
        return (x, l);
    }
}
