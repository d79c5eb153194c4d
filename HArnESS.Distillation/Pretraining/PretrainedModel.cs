using HArnESS.Checkpoints;
using HArnESS.Encoders;
using HArnESS.Modules;
using HArnESS.Serialization;
using static TorchSharp.torch;

namespace HArnESS.Distillation.Pretraining;

/// <summary>Saves a masked-pre-trained encoder with its <see cref="MaskedPredictionHead"/> as one HF-style folder:
/// <c>config.json</c> and <c>model.safetensors</c> holding the encoder's tensors plus the head's under fairseq's names
/// (HF's names: <c>final_proj.weight</c>, <c>final_proj.bias</c>, <c>label_embeddings_concat</c>). <c>SpeechEncoder.Load(dir)</c> loads
/// the encoder alone (the head keys are set aside), and <c>SpeechEncoder.LoadWithHead</c> /
/// <c>DistillationTeacher.Load(dir)</c> restore the head too, so the model can teach with its codebook.</summary>
public static class PretrainedModel
{
    /// <summary>Writes the folder (each file atomically).</summary>
    /// <param name="encoder">The encoder.</param>
    /// <param name="head">Its head, or null.</param>
    /// <param name="directory">Created if needed.</param>
    public static void Save(SpeechEncoder encoder, MaskedPredictionHead? head, string directory)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        encoder.Save(directory);
        if (head is null) return;
        using var scope = NewDisposeScope();
        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (k, v) in encoder.state_dict()) state[k] = v.detach().cpu();
        // HF's names for the head in an HF-style folder (the loader maps label_embeddings_concat back).
        foreach (var (k, v) in head.state_dict()) state[k == "label_embs_concat" ? "label_embeddings_concat" : k] = v.detach().cpu();
        SafeTensors.Save(Path.Combine(directory, "model.safetensors"), state,
            new Dictionary<string, string> { ["format"] = "pt", ["producer"] = "HArnESS", ["head"] = "masked-prediction" });
    }
}
