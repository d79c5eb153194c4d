using HArnESS.Distillation.Losses;
using NUnit.Framework;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Tests.Losses;

/// <summary>The losses are differentiable end to end: a few optimiser steps on a tiny linear student lower them.</summary>
public sealed class LossTrainingTests
{
    [Test]
    public void RegressionPlusDiscriminativeLossFallsForALinearStudent()
    {
        using var scope = NewDisposeScope();
        var g = new Generator(21);
        var input = randn(4, 12, 6, generator: g);
        var teacherMap = randn(6, 10, generator: g);
        var teacherLast = input.matmul(teacherMap);
        var valid = FrameMasks.FromLengths(tensor(new long[] { 12, 9, 7, 12 }), 12);
        using var codebook = new TeacherCodebook(randn(8, 10, generator: g), randn(8, generator: g), rand(5, 8, generator: g));
        var student = nn.Linear(6, 10);
        var proj = nn.Linear(10, 8);
        var parameters = student.parameters().Concat(proj.parameters()).ToArray();
        var opt = optim.Adam(parameters, lr: 0.05);
        var regression = new RegressionLoss();
        var disc = new DiscriminativeLoss();
        double first = 0, last = 0;
        for (var step = 0; step < 20; step++)
        {
            using var stepScope = NewDisposeScope();
            opt.zero_grad();
            var hidden = student.forward(input);
            using var r = regression.Compute([hidden], [teacherLast], valid);
            using var d = disc.Compute(teacherLast, hidden, proj, codebook, valid);
            var total = r.Total + d.Total;
            total.backward();
            opt.step();
            if (step == 0) first = total.item<float>();
            last = total.item<float>();
        }
        TestContext.Out.WriteLine($"regression + discriminative: {first:F4} -> {last:F4} after 20 Adam steps");
        Assert.That(last, Is.LessThan(0.7 * first));
    }
}
