using HArnESS.Export.Graph;

namespace HArnESS.Export.Modules;

/// <summary><c>feature_projection</c>: LayerNorm → Linear (dropout is identity at inference).</summary>
internal static class FeatureProjectionExporter
{
    public static string Write(ExportContext c, string features, double eps, string prefix = "feature_projection")
    {
        var g = c.G;
        var (s, shape) = c.W.Get(prefix + ".layer_norm.weight", 1);
        var scale = g.Initializer(prefix + ".layer_norm.weight", s, shape);
        var bias = g.Initializer(prefix + ".layer_norm.bias", c.W.Get(prefix + ".layer_norm.bias", 1).Data, shape);
        return c.Linear(g.LayerNorm(features, scale, bias, eps), prefix + ".projection");
    }
}
