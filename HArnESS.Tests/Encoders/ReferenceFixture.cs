using NUnit.Framework;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Tests.Encoders;

/// <summary>Reads the float32 tensor bundles written by scripts/fixtures/encoder_forward_reference.py.</summary>
internal sealed class ReferenceFixture : IDisposable
{
    private ReferenceFixture(Dictionary<string, Tensor> tensors) => Tensors = tensors;

    public Dictionary<string, Tensor> Tensors { get; }

    public Tensor this[string name] => Tensors[name];

    public static ReferenceFixture Load(string name)
    {
        var dir = Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", "Encoders");
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, name + ".json")));
        var floats = File.ReadAllBytes(Path.Combine(dir, name + ".bin"));
        var all = new float[floats.Length / 4];
        Buffer.BlockCopy(floats, 0, all, 0, floats.Length);
        var tensors = new Dictionary<string, Tensor>();
        foreach (var e in doc.RootElement.GetProperty("tensors").EnumerateArray())
        {
            var shape = e.GetProperty("shape").EnumerateArray().Select(s => s.GetInt64()).ToArray();
            var offset = e.GetProperty("offset").GetInt32();
            var count = (int)shape.Aggregate(1L, (a, b) => a * b);
            tensors[e.GetProperty("name").GetString()!] = tensor(all.AsSpan(offset, count).ToArray(), shape);
        }
        return new ReferenceFixture(tensors);
    }

    /// <summary>Copies every tensor whose name is a parameter of <paramref name="module"/> into it.</summary>
    public IReadOnlyList<string> LoadInto(nn.Module module)
    {
        var loaded = new List<string>();
        using var _ = no_grad();
        foreach (var (name, p) in module.named_parameters())
        {
            if (!Tensors.TryGetValue(name, out var src)) continue;
            Assert.That(p.shape, Is.EqualTo(src.shape), name);
            p.copy_(src);
            loaded.Add(name);
        }
        return loaded;
    }

    public void Dispose()
    {
        foreach (var t in Tensors.Values) t.Dispose();
    }
}
