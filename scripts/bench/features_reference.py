#!/usr/bin/python3
"""Reference timings for HArnESS.Benchmarks/FeatureBenchmarks.cs: torchaudio.compliance.kaldi fbank (80 bins) and
mfcc (13 cepstra, 23 bins, use_energy=True as the C# default) on the same 10 s signal, batch 1 and 8 (torchaudio
has no batch API, so 8 utterances are computed one after the other), on 1 thread and on all cores.
Prints seconds of audio per second. Run: /usr/bin/python3 scripts/bench/features_reference.py [--json out.json]
"""
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torchaudio
import torchaudio.compliance.kaldi as kaldi

SR, SECONDS = 16000, 10


def signal() -> torch.Tensor:
    n = np.arange(SR * SECONDS, dtype=np.int64)
    x = 0.3 * np.sin(2 * math.pi * 440 * n / SR) + 0.05 * np.sin(2 * math.pi * 3000 * n / SR) \
        + 0.01 * (((n * 7919) % 1000) / 1000.0 - 0.5)
    return torch.from_numpy(x.astype(np.float32))


def bench(fn, reps: int = 10) -> float:
    fn()  # warm-up
    best = []
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        best.append((time.perf_counter() - t0) / reps)
    return float(np.median(best))


def main() -> None:
    x = signal().unsqueeze(0)
    batch = [x.clone() for _ in range(8)]
    cases = {
        "Fbank80": lambda w: kaldi.fbank(w, num_mel_bins=80),
        "Mfcc": lambda w: kaldi.mfcc(w, use_energy=True),
    }
    results = {}
    print(f"torch {torch.__version__}, torchaudio {torchaudio.__version__}, cores {os.cpu_count()}")
    for threads in (1, os.cpu_count()):
        torch.set_num_threads(threads)
        with torch.no_grad():
            for name, f in cases.items():
                t1 = bench(lambda: f(x))
                t8 = bench(lambda: [f(w) for w in batch], reps=3)
                print(f"threads={threads} {name}_Batch1: {SECONDS / t1:8.0f} audio s/s ({t1 * 1e3:.2f} ms per 10 s)")
                print(f"threads={threads} {name}_Batch8: {8 * SECONDS / t8:8.0f} audio s/s ({t8 * 1e3:.2f} ms per 8 x 10 s)")
                results[f"threads={threads} {name}_Batch1"] = SECONDS / t1
                results[f"threads={threads} {name}_Batch8"] = 8 * SECONDS / t8
    if "--json" in sys.argv:  # machine-readable audio s/s per case, for scripts/bench/run.py
        with open(sys.argv[sys.argv.index("--json") + 1], "w") as f:
            json.dump({"tool": f"torchaudio {torchaudio.__version__}", "unit": "audio s/s", "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
