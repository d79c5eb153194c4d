using System.Text.RegularExpressions;
using static TorchSharp.torch;

namespace HArnESS.Distillation.Initialization;

/// <summary>The HF-style key layout of HArnESS encoders' state dicts.</summary>
internal static class StateKeys
{
    public const string LayerPrefix = "encoder.layers.";

    private static readonly Regex LayerKeyPattern = new(@"^encoder\.layers\.(\d+)\.(.+)$", RegexOptions.CultureInvariant | RegexOptions.Compiled);

    /// <summary>Matches <c>encoder.layers.{i}.{rest}</c>: group 1 is i, group 2 the rest.</summary>
    public static Regex LayerKey() => LayerKeyPattern;

    /// <summary>Number of transformer layers: one more than the largest <c>encoder.layers.{i}</c> index.</summary>
    public static int CountLayers(IReadOnlyDictionary<string, Tensor> state)
    {
        var max = -1;
        foreach (var k in state.Keys)
        {
            var m = LayerKey().Match(k);
            if (m.Success && int.TryParse(m.Groups[1].ValueSpan, out var i)) max = Math.Max(max, i);
        }
        return max + 1;
    }

    public static string Shape(Tensor t) => "[" + string.Join(", ", t.shape) + "]";
}
