using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace HArnESS.Tests.Hosting;

/// <summary>The samples/DistillationHost app as a child process: Ctrl+C (SIGINT) stops it at a step boundary with a
/// checkpoint and a clean exit; the rerun resumes from that step and finishes.</summary>
public sealed class DistillationHostTests
{
    // Long enough that the run cannot finish before SIGINT lands even when the suite loads both cores.
    private const int Steps = 150;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    private const int Sigint = 2;

    [DllImport("libc", EntryPoint = "signal", SetLastError = true)]
    private static extern IntPtr Signal(int signal, IntPtr handler);

    /// <summary>
    /// A suite started as a background job (<c>cmd &amp;</c> in a script, as CI runners and nohup do) inherits SIGINT
    /// ignored, and so would the child: its Ctrl+C handler would never run. Only in that case the test process puts
    /// SIGINT back to its default, which the child then inherits, as a foreground terminal would have it.
    /// </summary>
    private static void RestoreDefaultSigintWhenInheritedIgnored()
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        var ignored = ulong.Parse(line["SigIgn:".Length..].Trim(), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
        if ((ignored & (1UL << (Sigint - 1))) != 0)
            Assert.That(Signal(Sigint, IntPtr.Zero /* SIG_DFL */), Is.Not.EqualTo(new IntPtr(-1)), "signal(SIGINT, SIG_DFL) failed");
    }

    private static string HostDll => Path.Combine(TestPaths.RepoRoot, "samples", "DistillationHost", "bin", DotnetProcess.Configuration, "net10.0", "DistillationHost.dll");

    [Test]
    public void SigintLeavesAResumableCheckpointAndTheRerunFinishesFromIt()
    {
        Assert.That(File.Exists(HostDll), Is.True, $"the sample is built with the tests: {HostDll}");
        RestoreDefaultSigintWhenInheritedIgnored();
        using var temp = TestPaths.NewTempDirectory();
        var output = Path.Combine(temp.Path, "run");

        // Run 1: wait for the fifth progress line, then SIGINT.
        var (code1, text1) = RunHost(output, interruptAfterStep: 5);
        Assert.That(code1, Is.EqualTo(0), text1);
        var cancelled = Regex.Match(text1, @"Training cancelled at step (\d+)");
        Assert.That(cancelled.Success, Is.True, "the trainer stopped at a step boundary:\n" + text1);
        var step = long.Parse(cancelled.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(step, Is.InRange(5L, Steps - 1L), text1);
        var checkpoint = Path.Combine(output, "checkpoints", $"step-{step:D8}.safetensors");
        Assert.That(File.Exists(checkpoint), Is.True, "the cancellation wrote a checkpoint:\n" + text1);
        Assert.That(text1, Does.Contain("Stopped at a step boundary"));
        Assert.That(Directory.Exists(Path.Combine(output, "teacher")), Is.True, "the first run saved its tiny teacher");

        // Run 2: resumes from that checkpoint (same teacher, loaded back) and finishes.
        var (code2, text2) = RunHost(output, interruptAfterStep: null);
        Assert.That(code2, Is.EqualTo(0), text2);
        Assert.That(text2, Does.Contain($"Resumed from {checkpoint}: step {step},"), text2);
        Assert.That(text2, Does.Contain($"Loaded encoder '{Path.Combine(output, "teacher")}'"), text2);
        Assert.That(text2, Does.Contain($"Distillation finished: {Steps} updates (MaxSteps), resumed from update {step}"), text2);
        Assert.That(text2, Does.Not.Contain($"train: step {step}/{Steps} "), "no update before the checkpoint was redone");
        Assert.That(text2, Does.Contain($"train: step {step + 1}/{Steps} "), text2);
        Assert.That(File.Exists(Path.Combine(output, "checkpoints", $"step-{Steps:D8}.safetensors")), Is.True);
        Assert.That(File.Exists(Path.Combine(output, "student", "student.json")), Is.True, "the finished student was saved");
    }

    private static (int Code, string Text) RunHost(string output, int? interruptAfterStep)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetDirectoryName(output)! };
        foreach (var a in new[] { HostDll, "--steps", Steps.ToString(System.Globalization.CultureInfo.InvariantCulture), "--out", output, "--device", "cpu", "--checkpoint-every", "0" })
            psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        psi.Environment["HARNESS_DEVICE"] = "cpu";
        using var p = new Process { StartInfo = psi };
        var lines = new List<string>();
        var sent = false;
        var marker = interruptAfterStep is { } s ? $"train: step {s}/{Steps} " : null;
        void OnLine(string? line)
        {
            if (line is null) return;
            bool send;
            lock (lines)
            {
                lines.Add(line);
                send = marker is not null && !sent && line.Contains(marker, StringComparison.Ordinal);
                if (send) sent = true;
            }
            if (send) Assert.That(Kill(p.Id, Sigint), Is.EqualTo(0), $"kill(pid, SIGINT) failed: errno {Marshal.GetLastPInvokeError()}");
        }
        p.Start();
        // Dedicated reader threads, not the thread pool: under a loaded parallel suite the pool's async reads can lag
        // the child by seconds, and the SIGINT would then arrive after the run has finished.
        var readers = new[] { p.StandardOutput, p.StandardError }.Select(reader => new Thread(() =>
        {
            while (reader.ReadLine() is { } line) OnLine(line);
        }) { IsBackground = true }).ToArray();
        foreach (var t in readers) t.Start();
        if (!p.WaitForExit(300_000))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail("DistillationHost did not exit in 300 s:\n" + string.Join('\n', lines));
        }
        foreach (var t in readers) t.Join(); // drains the redirected streams
        lock (lines)
        {
            var text = string.Join('\n', lines);
            if (marker is not null) Assert.That(sent, Is.True, $"no '{marker}' line before the run ended:\n{text}");
            return (p.ExitCode, text);
        }
    }
}
