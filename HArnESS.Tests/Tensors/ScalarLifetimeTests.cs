using HArnESS.Distillation.Losses;
using HArnESS.Encoders;
using HArnESS.Features;
using HArnESS.Modules;
using HArnESS.Tensors;
using HArnESS.Tests.Training;
using HArnESS.Training;
using NUnit.Framework;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Tests.Tensors;

/// <summary>
/// TorchSharp frees an unrooted Scalar in its finalizer; with a thread forcing full collections and finalizers all
/// the time, HArnESS's training step and feature extractors must neither throw (<c>c10/core/Scalar.h toFloat</c>)
/// nor compute anything else than without that thread, bit for bit.
/// </summary>
public sealed class ScalarLifetimeTests : OneThreadTest
{
    private sealed class GcHammer : IDisposable
    {
        private volatile bool _stop;
        private readonly Thread _thread;
        public int Collections;

        public GcHammer()
        {
            _thread = new Thread(() =>
            {
                while (!_stop)
                {
                    GC.Collect();
                    GC.WaitForPendingFinalizers();
                    Interlocked.Increment(ref Collections);
                }
            }) { IsBackground = true, Name = "gc-hammer" };
            _thread.Start();
        }

        public void Dispose()
        {
            _stop = true;
            _thread.Join();
        }
    }

    /// <summary>Encoder forward, masked-prediction loss, backward and a HArnESS AdamW step, <paramref name="steps"/> times;
    /// the losses and the final parameters.</summary>
    private static (float[] Losses, float[] Parameters) TrainTiny(int steps)
    {
        manual_seed(1234);
        using var encoder = new SpeechEncoder(EncoderPresets.TinyPostLn);
        encoder.eval();   // no dropout: both runs draw nothing from the RNG after construction
        using var head = new MaskedPredictionHead(32, 8, 16);
        var parameters = encoder.named_parameters().Select(p => ("encoder." + p.name, p.parameter))
            .Concat(head.named_parameters().Select(p => ("head." + p.name, p.parameter))).ToList();
        using var optimizer = new AdamW();
        var group = new AdamWGroup("all", 1e-3, 0.01);
        foreach (var (name, p) in parameters) optimizer.Add(name, p, group);
        var loss = new MaskedPredictionLoss();
        using var wave = randn(2, 640);
        using var lengths = tensor(new long[] { 640, 480 });
        var frames = encoder.OutputFrames(640);
        using var labels = randint(0, 8, [2, frames]);
        using var mask = rand(2, frames).lt(Scalars.Of(0.5));
        var losses = new float[steps];
        for (var i = 0; i < steps; i++)
        {
            using var scope = NewDisposeScope();
            using var output = encoder.Forward(wave, lengths);
            var valid = output.PaddingMask!.logical_not();
            using var terms = loss.Compute(head, output.LastHiddenState, labels, mask, valid);
            terms.Total.backward();
            losses[i] = terms.Total.item<float>();
            var grads = parameters.Where(p => p.parameter.grad is not null)
                .ToDictionary(p => p.Item1, p => p.parameter.grad!);
            optimizer.Step(grads, 1.0);
            foreach (var (_, p) in parameters) p.grad?.zero_();
        }
        var final = parameters.SelectMany(p => p.parameter.detach().flatten().data<float>().ToArray()).ToArray();
        return (losses, final);
    }

    private static float[] Features(int repeats)
    {
        var fbank = new Fbank();
        var mfcc = new Mfcc();
        manual_seed(99);
        using var wave = randn(2, 4000).mul(Scalars.Of(1000.0));
        using var lengths = tensor(new long[] { 4000, 2500 });
        var all = new List<float>();
        for (var i = 0; i < repeats; i++)
        {
            using var scope = NewDisposeScope();
            var (fb, _) = fbank.Compute(wave, lengths);
            var (mf, mfLengths) = mfcc.Compute(wave, lengths);
            var deltas = Deltas.Compute(mf, mfLengths);
            if (i == repeats - 1) all.AddRange(fb.flatten().data<float>().ToArray().Concat(mf.flatten().data<float>().ToArray()).Concat(deltas.flatten().data<float>().ToArray()));
        }
        return all.ToArray();
    }

    [Test]
    public void TrainingStepsUnderConstantGarbageCollectionAreBitIdentical()
    {
        var quiet = TrainTiny(200);
        (float[] Losses, float[] Parameters) hammered;
        int collections;
        using (var gc = new GcHammer())
        {
            hammered = TrainTiny(200);
            collections = gc.Collections;
        }
        Assert.That(collections, Is.GreaterThan(10), "the GC thread must actually have collected during the run");
        Assert.That(quiet.Losses.All(float.IsFinite), Is.True);
        Assert.That(quiet.Losses[^1], Is.LessThan(quiet.Losses[0]), "200 AdamW steps must lower the loss");
        Assert.That(hammered.Losses, Is.EqualTo(quiet.Losses));
        Assert.That(hammered.Parameters, Is.EqualTo(quiet.Parameters));
    }

    [Test]
    public void FbankMfccAndDeltasUnderConstantGarbageCollectionAreBitIdentical()
    {
        var quiet = Features(30);
        float[] hammered;
        using (new GcHammer()) hammered = Features(30);
        Assert.That(quiet, Has.Length.GreaterThan(1000));
        Assert.That(hammered, Is.EqualTo(quiet));
    }

    [Test]
    public void CachedConstantsOutliveTheDisposeScopeTheyWereCreatedIn()
    {
        HArnESS.Runtime.HArnessRuntime.EnsureInitialized();
        Scalar created;
        using (NewDisposeScope())
        {
            created = Scalars.Of(0.3125);
            Assert.That(Scalars.Of(0.3125), Is.SameAs(created));
        }
        GC.Collect();
        GC.WaitForPendingFinalizers();
        using var x = tensor(new[] { 2.0f, -4.0f });
        using var y = x.mul(Scalars.Of(0.3125));
        Assert.That(Scalars.Of(0.3125), Is.SameAs(created));
        Assert.That(y.data<float>().ToArray(), Is.EqualTo(new[] { 0.625f, -1.25f }));
        using var i = tensor(new long[] { 3 });
        using var sum = i.add(i, Scalars.One).mul(Scalars.MinusOne).add(Scalars.Zero, Scalars.One);
        Assert.That(sum.dtype, Is.EqualTo(ScalarType.Int64), "the integer constants keep integer tensors integer");
        Assert.That(sum.item<long>(), Is.EqualTo(-6L));
        using var arange = Scalars.Arange(4);
        Assert.That(arange.data<long>().ToArray(), Is.EqualTo(new long[] { 0, 1, 2, 3 }));
    }

    [Test]
    public void TheCacheRefusesThe4097thConstantNamingTheRule()
    {
        // A cache of its own (Scalars' caches are process-wide; filling them would break every later test).
        HArnESS.Runtime.HArnessRuntime.EnsureInitialized();
        var cache = new ScalarCache<long>(static v => v.ToScalar());
        for (long v = 0; v < ScalarCache<long>.MaxCachedConstants; v++) cache.Get(v);
        Assert.That(cache.Count, Is.EqualTo(4096));
        Assert.That(cache.Get(17), Is.SameAs(cache.Get(17)), "a cached value is still served when the cache is full");
        var e = Assert.Throws<InvalidOperationException>(() => cache.Get(4096))!;
        Assert.That(e.Message, Does.Contain("4096").And.Contain("using var s = value.ToScalar()"));
        using var x = tensor(new long[] { 1 });
        using var y = x.add(cache.Get(4095), Scalars.One);
        Assert.That(y.item<long>(), Is.EqualTo(4096L));
    }
}
