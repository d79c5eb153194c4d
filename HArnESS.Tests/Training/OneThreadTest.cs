using NUnit.Framework;

namespace HArnESS.Tests.Training;

/// <summary>Base of tests that compare runs bit for bit: each test runs on one intra-op thread, so no reduction order
/// depends on how many threads the BLAS got, and the previous count is restored afterwards.</summary>
public abstract class OneThreadTest
{
    private int _threads;

    [SetUp]
    public void OneThread()
    {
        _threads = TorchSharp.torch.get_num_threads();
        TorchSharp.torch.set_num_threads(1);
    }

    [TearDown]
    public void RestoreThreads() => TorchSharp.torch.set_num_threads(_threads);
}
