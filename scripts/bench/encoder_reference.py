#!/usr/bin/python3
"""Reference timings for HArnESS.Benchmarks/EncoderForwardBenchmarks: torchaudio 0.13 (torch 1.13, CPU) models of
the same shapes on the same input sizes: 10 s of 16 kHz audio, batch 1 and 8, eval + no_grad.

  hubert-base    torchaudio.models.hubert_base()
  distilhubert   wav2vec2_model(group_norm CNN, 768, 2 layers, 12 heads, 3072)
  fbank-student  Linear(80*2 -> 512) on stacked fbank frames [B, 499, 160] + the distilhubert encoder
                 (features precomputed, as in the C# benchmark)

Note: Debian's python3-torch 1.13 is built with BLAS_INFO=generic and starts with 1 thread; pass --threads to
match the C# run. Its matmuls reach a few GFLOP/s, so the ratio measures that build, not PyTorch at its best.
Prints mean wall time over --iterations runs after one warm-up, the real-time factor and GFLOP/s (MACs counted the
same way as EncoderCost.CountMacs). Run: /usr/bin/python3 scripts/bench/encoder_reference.py [--iterations 3]
"""
import argparse, json, time
import torch
from torchaudio.models import hubert_base, wav2vec2_model

SECONDS, SAMPLES = 10, 160_000
FBANK_FRAMES = 1 + (SAMPLES - 400) // 160  # 998 Kaldi frames


def distil():
    return wav2vec2_model("group_norm", None, False, 768, 0.0, 128, 16, 2, 12, 0.0, 3072, 0.0, 0.0, False, 0.0, None)


class FbankStudent(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = torch.nn.Linear(160, 512)
        self.encoder = distil().encoder

    def forward(self, feats):
        b, t, _ = feats.shape
        x = self.proj(feats[:, : t // 2 * 2].reshape(b, t // 2, 160))
        return self.encoder(x)


def macs(model_name, batch):
    def enc(frames, layers, c=512, d=768, f=3072):
        pos_frames = frames + 1  # even kernel 128 with padding 64 computes one extra frame
        return frames * c * d + pos_frames * d * 48 * 128 + layers * (frames * (4 * d * d + 2 * d * f) + 2 * frames * frames * d)

    if model_name == "fbank-student":
        frames = FBANK_FRAMES // 2
        return batch * (frames * 160 * 512 + enc(frames, 2))
    t, cin, conv = SAMPLES, 1, 0
    for dim, k, s in [(512, 10, 5)] + [(512, 3, 2)] * 4 + [(512, 2, 2)] * 2:
        t = (t - k) // s + 1
        conv += t * dim * cin * k
        cin = dim
    return batch * (conv + enc(t, 12 if model_name == "hubert-base" else 2))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iterations", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (Debian's torch defaults to 1; match the C# run)")
    ap.add_argument("--cases", default="", help="comma-separated model:batch pairs to run, e.g. hubert-base:1 (default: all)")
    ap.add_argument("--json", help="also write {tool, unit, results: {'model batch': rtf}} here (for scripts/bench/run.py)")
    args = ap.parse_args()
    cases = {tuple(c.split(":")) for c in args.cases.split(",") if c}
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    rows = []
    for name, factory in [("hubert-base", hubert_base), ("distilhubert", distil), ("fbank-student", FbankStudent)]:
        if cases and not any(m == name for m, _ in cases):
            continue
        model = factory().eval()
        for batch in (1, 8):
            if cases and (name, str(batch)) not in cases:
                continue
            x = torch.randn(batch, FBANK_FRAMES, 80) if name == "fbank-student" else 0.1 * torch.randn(batch, SAMPLES)
            with torch.no_grad():
                model(x)  # warm-up
                times = []
                for _ in range(args.iterations):
                    t0 = time.perf_counter()
                    model(x)
                    times.append(time.perf_counter() - t0)
            mean = sum(times) / len(times)
            row = {"model": name, "batch": batch, "mean_ms": round(mean * 1e3, 1), "rtf": round(mean / (batch * SECONDS), 4),
                   "gflops": round(2 * macs(name, batch) / mean / 1e9, 1)}
            rows.append(row)
            print(json.dumps(row), flush=True)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    if args.json:
        import torchaudio
        with open(args.json, "w") as f:
            json.dump({"tool": f"torchaudio {torchaudio.__version__}", "unit": "real-time factor",
                       "results": {f"{r['model']} {r['batch']}": r["mean_ms"] / 1e3 / (r["batch"] * SECONDS) for r in rows}}, f, indent=1)


if __name__ == "__main__":
    main()
