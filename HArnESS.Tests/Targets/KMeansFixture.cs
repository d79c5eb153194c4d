using NUnit.Framework;
using System.Text.Json;
using HArnESS.Distillation.Targets;
using TorchSharp;

namespace HArnESS.Tests.Targets;

/// <summary>The sklearn reference numbers of scripts/fixtures/make_kmeans_fixtures.py and the data they came from.</summary>
internal static class KMeansFixture
{
    public static JsonElement Load()
    {
        var path = Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", "Targets", "kmeans_sklearn.json");
        return JsonDocument.Parse(File.ReadAllText(path)).RootElement;
    }

    public static torch.Tensor Data(JsonElement fixture)
    {
        var g = fixture.GetProperty("generator");
        return SyntheticFeatures.Generate(g.GetProperty("seed").GetUInt64(), g.GetProperty("rows").GetInt32(),
            g.GetProperty("dim").GetInt32(), g.GetProperty("components").GetInt32(), g.GetProperty("spread").GetDouble());
    }
}
