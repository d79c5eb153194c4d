#!/usr/bin/python3
"""Reference timings for HArnESS.Benchmarks/CheckpointLoadBenchmarks: torch.save / torch.load of torchaudio's
hubert_base() state dict (the same 94.4 M parameters) and a safetensors read with numpy (mmap + copy into
torch tensors), median of 5 after one warm-up. Run: /usr/bin/python3 scripts/bench/checkpoint_reference.py"""
import json
import os
import statistics
import struct
import sys
import tempfile
import time

import numpy as np
import torch
import torchaudio

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
from safetensors_writer import write_safetensors  # noqa: E402


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    buf = np.memmap(path, dtype=np.uint8, mode="r")
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        s, e = v["data_offsets"]
        a = np.frombuffer(buf[8 + n + s:8 + n + e], dtype=np.float32).reshape(v["shape"])
        out[k] = torch.from_numpy(a.copy())
    return out


def timed(fn, reps=5):
    fn()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def main():
    torch.set_num_threads(os.cpu_count())
    sd = torchaudio.models.hubert_base().state_dict()
    mb = sum(t.numel() * t.element_size() for t in sd.values()) / 1e6
    with tempfile.TemporaryDirectory() as d:
        pt, st = os.path.join(d, "model.bin"), os.path.join(d, "model.safetensors")
        torch.save(sd, pt)
        write_safetensors(st, sd)
        print(f"hubert_base state dict: {mb:.0f} MB")
        print(f"torch.save            : {timed(lambda: torch.save(sd, pt)) * 1e3:8.1f} ms")
        print(f"torch.load            : {timed(lambda: torch.load(pt)) * 1e3:8.1f} ms")
        print(f"safetensors (numpy)   : {timed(lambda: read_safetensors(st)) * 1e3:8.1f} ms")


if __name__ == "__main__":
    main()
