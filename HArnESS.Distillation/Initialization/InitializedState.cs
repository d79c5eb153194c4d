using static TorchSharp.torch;

namespace HArnESS.Distillation.Initialization;

/// <summary>The result of an initialisation helper: a new state dict for the student (load it with
/// <c>load_state_dict</c> or copy it into the parameters) and what was taken from the teacher.</summary>
/// <param name="State">The student's tensors by key. Tensors taken or derived from the teacher are new tensors;
/// the rest are the student's own (the same instances as in the dict passed in).</param>
/// <param name="FromTeacher">The keys whose values came from the teacher, in order.</param>
/// <param name="Skipped">Teacher keys the helper did not use (e.g. a teacher's prediction head).</param>
public sealed record InitializedState(Dictionary<string, Tensor> State, IReadOnlyList<string> FromTeacher, IReadOnlyList<string> Skipped);
