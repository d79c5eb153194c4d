#!/usr/bin/python3
"""Reference timing for HArnESS.Benchmarks/PcaBenchmarks.cs: sklearn 1.2 PCA(n_components=256, svd_solver="full")
on the same 20,000 x 768 matrix (integer arithmetic only, bit-identical to PcaBenchmarks.Matrix()).

Run: OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 /usr/bin/python3 scripts/bench/pca_reference.py [repeats] [--json out.json]
Prints the mean wall time per fit and the retained variance ratio.
"""
import json
import sys
import time

import numpy as np
import sklearn
from sklearn.decomposition import PCA

ROWS, DIM, COMPONENTS = 20000, 768, 256  # must match PcaBenchmarks.cs


def matrix():
    i = np.arange(ROWS, dtype=np.int64)[:, None]
    d = np.arange(DIM, dtype=np.int64)[None, :]
    x = ((i * 7919 + d * 104729) % 1000) / 1000.0 - 0.5 + ((i % 97) - 48) * ((d * 31 % 17) - 8) / 400.0
    return x.astype(np.float32)


def main():
    args = sys.argv[1:]
    out = None
    if "--json" in args:
        out = args.pop(args.index("--json") + 1)
        args.remove("--json")
    repeats = int(args[0]) if args else 3
    x = matrix()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        pca = PCA(n_components=COMPONENTS, svd_solver="full").fit(x)
        times.append(time.perf_counter() - t0)
        print(f"fit: {times[-1]:.3f} s, retained variance {pca.explained_variance_ratio_.sum():.6f}")
    print(f"sklearn {sklearn.__version__} PCA {ROWS}x{DIM} -> {COMPONENTS}: mean {np.mean(times):.3f} s/fit")
    if out:  # machine-readable, for scripts/bench/run.py
        with open(out, "w") as f:
            json.dump({"tool": f"sklearn {sklearn.__version__}", "unit": "s", "results": {"fit": float(np.mean(times))},
                       "retained_variance": float(pca.explained_variance_ratio_.sum())}, f, indent=1)


if __name__ == "__main__":
    main()
