using HArnESS.Export.Graph;

namespace HArnESS.Export.Modules;

/// <summary><c>fbank_frontend</c>: stack <c>stack</c> consecutive fbank frames (a trailing partial stack is
/// dropped) and project (<c>fbank_frontend.projection.*</c>); lengths become <c>floor(len / stack)</c>.</summary>
internal static class FbankStackExporter
{
    public static (string Features, string Lengths) Write(ExportContext c, string fbank, string lengths, int melBins, int stack, string prefix)
    {
        var g = c.G;
        var x = fbank;
        if (stack > 1)
        {
            var frames = g.Dim(fbank, 1);
            var kept = g.Mul(g.Div(frames, g.Ints(stack)), g.Ints(stack));
            x = g.Node("Slice", [fbank, g.Ints(0), kept, g.Ints(1)], hint: "whole_stacks");
        }
        x = g.Reshape(x, 0, -1, (long)stack * melBins);
        return (c.Linear(x, prefix + ".projection"), LengthOps.FloorDiv(g, lengths, stack));
    }
}
