using System.Text.Json;
using HArnESS.Distillation.Targets;
using NUnit.Framework;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Tests.Targets;

public sealed class PcaTests
{
    private static JsonElement _fx;
    private static Tensor _x = null!;

    [OneTimeSetUp]
    public void LoadFixture()
    {
        var path = Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", "Targets", "pca_sklearn.json");
        _fx = JsonDocument.Parse(File.ReadAllText(path)).RootElement;
        var g = _fx.GetProperty("generator");
        _x = SyntheticFeatures.Generate(g.GetProperty("seed").GetUInt64(), g.GetProperty("rows").GetInt32(),
            g.GetProperty("dim").GetInt32(), g.GetProperty("components").GetInt32(), g.GetProperty("spread").GetDouble());
    }

    [OneTimeTearDown]
    public void Free() => _x.Dispose();

    private static double[][] Matrix(string name) =>
        _fx.GetProperty(name).EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();

    private static double[] Vector(string name) => _fx.GetProperty(name).EnumerateArray().Select(v => v.GetDouble()).ToArray();

    private static double[][] Rows(Tensor t)
    {
        using var c = t.to(ScalarType.Float64).cpu();
        var r = (int)c.shape[0];
        var w = (int)c.shape[1];
        var flat = c.data<double>().ToArray();
        return Enumerable.Range(0, r).Select(i => flat.AsSpan(i * w, w).ToArray()).ToArray();
    }

    /// <summary>+1 or −1 per axis so that our component matches sklearn's sign.</summary>
    private static double[] SignsAgainst(double[][] ours, double[][] reference) =>
        ours.Select((row, i) => row.Zip(reference[i], (a, b) => a * b).Sum() >= 0 ? 1.0 : -1.0).ToArray();

    [Test]
    public void StreamedFitMatchesSklearnComponentsAndExplainedVariance()
    {
        var keep = _fx.GetProperty("keep").GetInt32();
        // chunks of 700 rows: the covariance accumulates across 5 chunks
        using var pca = Pca.Fit(new TensorFeatureSource(_x, chunkRows: 700), new PcaOptions { Components = keep }, torch.CPU);
        Assert.That(pca.Components.shape, Is.EqualTo(new long[] { keep, 39 }));
        var ours = Rows(pca.Components);
        var refComps = Matrix("components");
        var signs = SignsAgainst(ours, refComps);
        var maxErr = 0.0;
        for (var i = 0; i < keep; i++)
            for (var j = 0; j < 39; j++)
                maxErr = Math.Max(maxErr, Math.Abs(signs[i] * ours[i][j] - refComps[i][j]));
        var ev = pca.ExplainedVariance.data<double>().ToArray();
        var ratio = pca.ExplainedVarianceRatio.data<double>().ToArray();
        var refEv = Vector("explained_variance");
        var refRatio = Vector("explained_variance_ratio");
        var evErr = ev.Select((v, i) => Math.Abs(v - refEv[i])).Max();
        var ratioErr = ratio.Select((v, i) => Math.Abs(v - refRatio[i])).Max();
        TestContext.Out.WriteLine($"PCA vs sklearn: max |component diff| {maxErr:E2}, max |explained variance diff| {evErr:E2}, max |ratio diff| {ratioErr:E2}");
        Assert.That(maxErr, Is.LessThan(1e-4));
        Assert.That(evErr, Is.LessThan(1e-4));
        Assert.That(ratioErr, Is.LessThan(1e-6));
        using var mean = pca.Mean.to(ScalarType.Float64);
        Assert.That(mean.data<double>().ToArray(), Is.EqualTo(Vector("mean")).Within(1e-4));
    }

    [Test]
    public void TransformWhitenAndInverseMatchSklearn()
    {
        var keep = _fx.GetProperty("keep").GetInt32();
        using var pca = Pca.Fit(_x, new PcaOptions { Components = keep }, torch.CPU);
        using var white = Pca.Fit(_x, new PcaOptions { Components = keep, Whiten = true }, torch.CPU);
        var signs = SignsAgainst(Rows(pca.Components), Matrix("components"));
        using var first = _x.narrow(0, 0, 4);
        using var z = pca.Transform(first);
        using var zw = white.Transform(first);
        using var back = pca.InverseTransform(z);
        var zr = Rows(z);
        var zwr = Rows(zw);
        var refZ = Matrix("transform_first_rows");
        var refZw = Matrix("whiten_transform_first_rows");
        for (var i = 0; i < 4; i++)
            for (var j = 0; j < keep; j++)
            {
                Assert.That(signs[j] * zr[i][j], Is.EqualTo(refZ[i][j]).Within(2e-3));
                Assert.That(signs[j] * zwr[i][j], Is.EqualTo(refZw[i][j]).Within(2e-4));
            }
        var rec = Rows(back);
        var refRec = Matrix("reconstruction_first_rows");
        Assert.That(rec.SelectMany(r => r).ToArray(), Is.EqualTo(refRec.SelectMany(r => r).ToArray()).Within(2e-3));
        using var zwBack = white.InverseTransform(zw);
        Assert.That(zwBack.data<float>().ToArray(), Is.EqualTo(back.data<float>().ToArray()).Within(1e-3));
    }

    [Test]
    public void VarianceThresholdKeepsTheSameCountAsSklearn()
    {
        using var pca = Pca.Fit(_x, new PcaOptions { VarianceThreshold = _fx.GetProperty("threshold").GetDouble() }, torch.CPU);
        Assert.That(pca.ComponentCount, Is.EqualTo(_fx.GetProperty("threshold_components").GetInt32()));
        Assert.That(pca.RetainedVarianceRatio, Is.GreaterThanOrEqualTo(0.9));
    }

    [Test]
    public void FullRankRoundTripsAndSaveLoadPreservesEverything()
    {
        using var pca = Pca.Fit(_x, new PcaOptions { Whiten = true }, torch.CPU);
        using var first = _x.narrow(0, 0, 16);
        using var z = pca.Transform(first);
        using var back = pca.InverseTransform(z);
        Assert.That(back.data<float>().ToArray(), Is.EqualTo(first.data<float>().ToArray()).Within(1e-3));

        var path = Path.Combine(Path.GetTempPath(), $"harness-pca-{Guid.NewGuid():N}.safetensors");
        try
        {
            pca.Save(path);
            using var loaded = Pca.Load(path);
            Assert.That(loaded.Whiten, Is.True);
            Assert.That(loaded.Samples, Is.EqualTo(_x.shape[0]));
            using var z2 = loaded.Transform(first);
            Assert.That(z2.data<float>().ToArray(), Is.EqualTo(z.data<float>().ToArray()));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void BadOptionsAndInputsAreNamed()
    {
        var ex = Assert.Throws<HArnessConfigException>(() => Pca.Fit(_x, new PcaOptions { Components = 40 }, torch.CPU));
        Assert.That(ex!.OptionName, Is.EqualTo("Components"));
        Assert.Throws<HArnessValidationException>(() => new PcaOptions { VarianceThreshold = 1.5 }.Validate());
        Assert.Throws<HArnessValidationException>(() => new PcaOptions { Components = 3, VarianceThreshold = 0.5 }.Validate());
        using var nan = _x.narrow(0, 0, 10).clone();
        nan[3, 2] = torch.tensor(float.NaN);
        var bad = Assert.Throws<HArnessDataException>(() => Pca.Fit(nan, null, torch.CPU));
        Assert.That(bad!.Message, Does.Contain("row 3"));
    }
}
