#!/usr/bin/python3
"""Times torchaudio 0.13 functional.resample on the inputs HArnESS.Benchmarks/ResamplingBenchmarks.cs uses
(10 s of audio, batch 1 and 8), so the C# numbers can be reported as a ratio.

Usage: /usr/bin/python3 scripts/bench/resample_reference.py [--threads N] [--repeats R]
C# side: cd HArnESS.Benchmarks && dotnet run -c Release -- --filter '*ResamplingBenchmarks*' --job short
Prints one line per case: median and min milliseconds per call, and seconds of audio per second.
The kernel is built once per case (as torchaudio.transforms.Resample does and as our Resampler caches it).
"""
import argparse
import os
import statistics
import time

import torch
import torchaudio
import torchaudio.functional as F

CASES = [(44100, 16000), (48000, 16000), (22050, 16000), (16000, 48000)]
BATCHES = [1, 8]
SECONDS = 10


def signal(batch, rate):
    g = torch.Generator().manual_seed(1234)
    t = torch.arange(SECONDS * rate, dtype=torch.float64) / rate
    tones = 0.3 * torch.sin(2 * torch.pi * 440 * t) + 0.2 * torch.sin(2 * torch.pi * 3000 * t)
    noise = 0.1 * (torch.rand(batch, SECONDS * rate, generator=g, dtype=torch.float64) - 0.5)
    return (tones + noise).to(torch.float32)


def main():
    ap = argparse.ArgumentParser()
    # same default as ResamplingBenchmarks.cs (HARNESS_BENCH_THREADS, else 1)
    ap.add_argument("--threads", type=int, default=int(os.environ.get("HARNESS_BENCH_THREADS", "1")))
    ap.add_argument("--repeats", type=int, default=15)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, torchaudio {torchaudio.__version__}, {torch.get_num_threads()} threads")
    for orig, new in CASES:
        resampler = torchaudio.transforms.Resample(orig, new)  # default sinc_interpolation, width 6, rolloff 0.99
        for batch in BATCHES:
            x = signal(batch, orig)
            with torch.inference_mode():
                resampler(x)  # warm-up
                times = []
                for _ in range(args.repeats):
                    start = time.perf_counter()
                    resampler(x)
                    times.append(time.perf_counter() - start)
            med = statistics.median(times)
            print(f"torchaudio {orig}->{new} batch {batch}: median {med * 1e3:.2f} ms, min {min(times) * 1e3:.2f} ms, "
                  f"{batch * SECONDS / med:.0f} s audio/s")


if __name__ == "__main__":
    main()
