using System.Globalization;
using HArnESS.Distillation.Students;
using HArnESS.Encoders;
using HArnESS.Modules;

namespace HArnESS.Distillation.Pipelines;

/// <summary>Whether a student's front-end can be distilled frame by frame onto a teacher's <c>hidden_states[0]</c>,
/// and, when it cannot, which frame stacking or subsampling would reconcile the two rates (or that none can).</summary>
internal static class FrontEndFrameRate
{
    /// <summary>Adds <c>FrontEndDistillation.FrameRate</c> to <paramref name="errors"/> when the student's and the
    /// teacher's front-ends give different frame counts for 30 s of audio, with the remedy in the message.</summary>
    public static void Check(ValidationErrors errors, SpeechEncoderConfig student, SpeechEncoderConfig teacher)
    {
        if (student.SampleRate != teacher.SampleRate) return; // reported as Student.SampleRate
        var samples = 30L * teacher.SampleRate;
        long s = student.FrontEnd.OutputFrames(samples), t = teacher.FrontEnd.OutputFrames(samples);
        if (Math.Abs(s - t) <= DistillationStudentConfig.FrameTolerance) return;
        errors.Add("FrontEndDistillation.FrameRate", string.Create(CultureInfo.InvariantCulture,
            $"Front-end distillation matches the student's hidden_states[0] frame by frame to the teacher's, but the student's {student.FrontEnd.Kind} front-end gives {s} frames for 30 s of audio and the teacher's {teacher.FrontEnd.Kind} front-end {t}. {Remedy(student.FrontEnd, samples, t)}"));
    }

    /// <summary>The front-end change that gives <paramref name="teacherFrames"/> frames, or why none exists.</summary>
    internal static string Remedy(FrontEndConfig frontEnd, long samples, long teacherFrames)
    {
        var input = frontEnd.InputFrames(samples);
        if (teacherFrames <= 0 || input < teacherFrames)
            return string.Create(CultureInfo.InvariantCulture,
                $"No frame stacking or subsampler can reconcile them: the student's front-end reads only {input} input frames, fewer than the teacher's {teacherFrames} output frames (subsampling only lowers the rate).");
        var ratio = (long)Math.Round((double)input / teacherFrames);
        bool Fits(long frames) => Math.Abs(frames - teacherFrames) <= DistillationStudentConfig.FrameTolerance;
        var unit = frontEnd.TakesWaveforms ? "samples" : "input frames";
        if (!Fits(input / ratio))
            return string.Create(CultureInfo.InvariantCulture,
                $"No frame stacking or subsampler can reconcile them: a teacher frame spans {(double)input / teacherFrames:G4} of the student's {unit}, not a whole number.");
        switch (frontEnd)
        {
            case FbankFrontEndConfig:
                return string.Create(CultureInfo.InvariantCulture, $"Stacking {ratio} fbank frames reconciles them: set FbankFrontEndConfig.Stack = {ratio}.");
            case Conv1dSubsamplerConfig:
            {
                var layers = (int)Math.Round(Math.Log2(ratio));
                if ((1L << layers) == ratio && Fits(new Conv1dSubsamplerConfig { KernelSizes = Enumerable.Repeat(5, layers).ToArray() }.OutputFramesFromInput(input)))
                    return string.Create(CultureInfo.InvariantCulture,
                        $"A subsampler of {layers} stride-2 layer(s) reconciles them: set Conv1dSubsamplerConfig.KernelSizes to {layers} kernel(s), or use an FbankFrontEndConfig with Stack = {ratio}.");
                return string.Create(CultureInfo.InvariantCulture,
                    $"No stride-2 subsampler reconciles them (a teacher frame spans {ratio} input frames, not a power of 2): use an FbankFrontEndConfig with Stack = {ratio}.");
            }
            default:
                return string.Create(CultureInfo.InvariantCulture,
                    $"A {frontEnd.Kind} front-end whose total stride is {ratio} {unit} reconciles them.");
        }
    }
}
