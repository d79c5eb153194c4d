namespace HArnESS.Runtime;

/// <summary>Where <see cref="LibTorchBackend.Locate(string?, bool)"/> found libtorch, in the order it looks.</summary>
public enum LibTorchSource
{
    /// <summary><see cref="RuntimeOptions.LibTorchDirectory"/> named the folder.</summary>
    Option,

    /// <summary>The environment variable <see cref="RuntimeOptions.LibTorchDirectoryVariable"/> named the folder.</summary>
    EnvironmentVariable,

    /// <summary>The application's own output: a referenced backend package such as <c>libtorch-cpu-linux-x64</c>,
    /// copied beside the app (<c>runtimes/linux-x64/native</c> or the base folder). What a deployed app uses.</summary>
    AppPackage,

    /// <summary>The NuGet global packages folder. Normal in notebooks and scripts; in a built app it means the app
    /// does not reference a backend package and will fail where the cache is absent (a warning is logged, and
    /// <see cref="RuntimeOptions.AllowNuGetCache"/> = false forbids it).</summary>
    NuGetCache,
}
