using System.Text.Json;
using NUnit.Framework;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Tests.Checkpoints;

/// <summary>Paths and expected values of the files made by scripts/fixtures/make_checkpoint_format_fixtures.py.</summary>
internal static class CheckpointFixtures
{
    public static string Dir => Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", "Checkpoints");

    public static string PathOf(string name) => Path.Combine(Dir, name);

    public sealed record Expected(string DType, long[] Shape, double[] Values);

    public static Dictionary<string, Expected> ReadExpected(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(PathOf(name)));
        var result = new Dictionary<string, Expected>();
        foreach (var p in doc.RootElement.EnumerateObject())
        {
            result[p.Name] = new Expected(
                p.Value.GetProperty("dtype").GetString()!,
                p.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray(),
                p.Value.GetProperty("values").EnumerateArray().Select(e => e.GetDouble()).ToArray());
        }
        return result;
    }

    public static ScalarType TorchType(string pythonName) => pythonName switch
    {
        "float32" => ScalarType.Float32,
        "float16" => ScalarType.Float16,
        "bfloat16" => ScalarType.BFloat16,
        "float64" => ScalarType.Float64,
        "int64" => ScalarType.Int64,
        "int32" => ScalarType.Int32,
        "int16" => ScalarType.Int16,
        "int8" => ScalarType.Int8,
        "uint8" => ScalarType.Byte,
        "bool" => ScalarType.Bool,
        _ => throw new ArgumentException(pythonName),
    };

    /// <summary>Asserts dtype, shape and exact values (Python wrote them as float64, which holds every value exactly).</summary>
    public static void AssertMatches(string name, Tensor actual, Expected expected)
    {
        Assert.That(actual.dtype, Is.EqualTo(TorchType(expected.DType)), name);
        Assert.That(actual.shape, Is.EqualTo(expected.Shape), name);
        using var flat = actual.to_type(ScalarType.Float64).flatten();
        var values = flat.data<double>().ToArray();
        Assert.That(values, Is.EqualTo(expected.Values), name);
    }
}
