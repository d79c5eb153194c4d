#!/usr/bin/python3
"""Reference timing for HArnESS.Benchmarks/AudioLoaderBenchmarks: one epoch of data/demo/train.tsv read with the
standard library's wave module, converted with numpy, padded into torch tensors with lengths and a padding mask,
batches of 8 sorted by length (as the loader's bucketing). Prints the mean epoch time and seconds of audio per second."""
import os
import time
import wave

import numpy as np
import torch

here = os.path.dirname(os.path.abspath(__file__))
tsv = os.path.join(here, "..", "data", "demo", "train.tsv")
with open(tsv, encoding="utf-8") as f:
    lines = f.read().splitlines()
root = os.path.join(os.path.dirname(tsv), lines[0])
entries = [(os.path.join(root, p), int(n)) for p, n in (l.split("\t") for l in lines[1:])]
order = sorted(range(len(entries)), key=lambda i: entries[i][1])
batches = [order[i:i + 8] for i in range(0, len(order), 8)]
audio_seconds = sum(n for _, n in entries) / 16000


def epoch():
    total = 0
    for batch in batches:
        waves = []
        for i in batch:
            with wave.open(entries[i][0], "rb") as w:
                waves.append(np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768.0)
        lengths = torch.tensor([len(x) for x in waves], dtype=torch.int64)
        t = int(lengths.max())
        padded = torch.zeros(len(waves), t)
        for r, x in enumerate(waves):
            padded[r, :len(x)] = torch.from_numpy(x)
        mask = torch.arange(t)[None, :] >= lengths[:, None]
        total += int(lengths.sum())
    return total


epoch()
runs = []
for _ in range(20):
    start = time.perf_counter()
    epoch()
    runs.append(time.perf_counter() - start)
mean = sum(runs) / len(runs)
print(f"reference epoch: {mean * 1000:.2f} ms for {audio_seconds:.1f} s of audio in {len(entries)} files "
      f"= {audio_seconds / mean:.0f} s of audio per second (torch {torch.__version__})")
