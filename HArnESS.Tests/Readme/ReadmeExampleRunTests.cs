using HArnESS.Runtime;
using NUnit.Framework;
using TorchSharp;

namespace HArnESS.Tests.Readme;

/// <summary>Runs the README's example (<see cref="ReadmeExample"/>) as written: a folder laid out as the example
/// expects (a teacher at <c>hubert-base-ls960/</c>, the demo corpus at <c>data/demo</c>) is the working directory.</summary>
[NonParallelizable]
public sealed class ReadmeExampleRunTests
{
    [Test]
    public async Task TheReadmeExampleRunsOnATinySavedTeacherAndTheDemoCorpus()
    {
        var dir = Path.Combine(Path.GetTempPath(), "harness-readme-" + Guid.NewGuid().ToString("N"));
        ReadmeExample.LayOut(dir);

        var runtime = HArnessRuntime.EnsureInitialized();
        var cwd = Environment.CurrentDirectory;
        try
        {
            Environment.CurrentDirectory = dir;
            await ReadmeExample.RunAsync();
        }
        finally
        {
            Environment.CurrentDirectory = cwd;
            HArnessRuntime.Initialize(new RuntimeOptions
            {
                Device = runtime.Device.type == DeviceType.CUDA ? ComputeDevice.Auto : ComputeDevice.Cpu,
                Threads = runtime.Threads,
                DefaultDType = runtime.DefaultDType,
                Seed = runtime.Seed,
            });
        }

        try
        {
            ReadmeExample.CheckOutputs(dir);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
