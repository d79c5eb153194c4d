using HArnESS.Distillation.Initialization;
using NUnit.Framework;
using static TorchSharp.torch;

namespace HArnESS.Tests.Initialization;

public sealed class TeacherInitializationTests
{
    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    [Test]
    public void LayerMapsAreDistilHubertsAndDistilXlsrs()
    {
        Assert.That(LayerMaps.FirstN(2), Is.EqualTo(new[] { 0, 1 }));
        Assert.That(LayerMaps.EveryKth(3, 4), Is.EqualTo(new[] { 2, 5, 8, 11 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => LayerMaps.EveryKth(0, 4));
    }

    [Test]
    public void FrontEndAndMappedLayersAreCopiedAndNothingElse()
    {
        var teacher = SyntheticState.Make(8, 16, 12, seed: 1);
        var student = SyntheticState.Make(8, 16, 4, seed: 2);
        var studentBefore = student.ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        try
        {
            int[] map = [2, 5, 8, 11];
            var r = TeacherInitialization.FromTeacher(teacher, student, map);
            Assert.That(r.State.Keys, Is.EquivalentTo(student.Keys));
            foreach (var (key, value) in r.State)
            {
                var m = System.Text.RegularExpressions.Regex.Match(key, @"^encoder\.layers\.(\d+)\.(.+)$");
                if (m.Success)
                {
                    var tk = $"encoder.layers.{map[int.Parse(m.Groups[1].Value)]}.{m.Groups[2].Value}";
                    Assert.That(Same(value, teacher[tk]), Is.True, key);
                    Assert.That(ReferenceEquals(value, teacher[tk]), Is.False, "copies, not aliases");
                }
                else if (key == "final_proj.weight")
                    Assert.That(ReferenceEquals(value, student[key]), Is.True, "the student's own head is kept");
                else Assert.That(Same(value, teacher[key]), Is.True, key);
            }
            Assert.That(r.FromTeacher, Has.Count.EqualTo(student.Count - 1));
            Assert.That(r.Skipped, Does.Contain("encoder.layers.0.attention.q_proj.weight").And.Contain("final_proj.weight"));
            Assert.That(r.Skipped, Does.Not.Contain("encoder.layers.2.attention.q_proj.weight").And.Not.Contain("feature_projection.projection.weight"));
            foreach (var (k, v) in student) Assert.That(Same(v, studentBefore[k]), Is.True, $"input '{k}' unchanged");

            var onlyConv = TeacherInitialization.CopyFrontEnd(teacher, student, FrontEndParts.FeatureExtractor);
            Assert.That(onlyConv.FromTeacher.All(k => k.StartsWith("feature_extractor.", StringComparison.Ordinal)), Is.True);
            Assert.That(ReferenceEquals(onlyConv.State["encoder.pos_conv_embed.conv.bias"], student["encoder.pos_conv_embed.conv.bias"]), Is.True);

            var first = TeacherInitialization.CopyLayers(teacher, student, LayerMaps.FirstN(4));
            Assert.That(Same(first.State["encoder.layers.3.final_layer_norm.bias"], teacher["encoder.layers.3.final_layer_norm.bias"]), Is.True);
        }
        finally
        {
            SyntheticState.Free(teacher);
            SyntheticState.Free(student);
            SyntheticState.Free(studentBefore);
        }
    }

    [Test]
    public void OutOfRangeLayersAndShapeMismatchesGetNamedErrors()
    {
        var teacher = SyntheticState.Make(8, 16, 12, seed: 1);
        var student = SyntheticState.Make(8, 16, 4, seed: 2);
        var wide = SyntheticState.Make(10, 16, 4, seed: 3);
        try
        {
            var ex = Assert.Throws<ArgumentOutOfRangeException>(() => TeacherInitialization.CopyLayers(teacher, student, [2, 5, 8, 12]));
            Assert.That(ex!.Message, Does.Contain("layerMap[3] = 12").And.Contain("0..11"));
            Assert.That(ex.ParamName, Is.EqualTo("layerMap"));
            Assert.That(() => TeacherInitialization.CopyLayers(teacher, student, [0, 1]),
                Throws.ArgumentException.With.Message.Contains("2 entries but the student has 4 layers"));
            Assert.That(() => TeacherInitialization.CopyLayers(teacher, wide, [0, 1, 2, 3]),
                Throws.InstanceOf<HArnessCheckpointException>().With.Message.Contains("Shape mismatch").And.Message.Contains("[10, 10]").And.Message.Contains("[8, 8]"));
            Assert.That(() => TeacherInitialization.CopyFrontEnd(teacher, wide),
                Throws.InstanceOf<HArnessCheckpointException>().With.Message.Contains("feature_projection.projection.weight"));
            var partial = new Dictionary<string, Tensor>(teacher);
            partial.Remove("encoder.layers.5.feed_forward.output_dense.bias");
            Assert.That(() => TeacherInitialization.CopyLayers(partial, student, [2, 5, 8, 11]),
                Throws.InstanceOf<HArnessCheckpointException>().With.Message.Contains("no 'encoder.layers.5.feed_forward.output_dense.bias'")
                    .And.Message.Contains("encoder.layers.1.feed_forward.output_dense.bias"));
        }
        finally
        {
            SyntheticState.Free(teacher);
            SyntheticState.Free(student);
            SyntheticState.Free(wide);
        }
    }
}
