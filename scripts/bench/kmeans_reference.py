#!/usr/bin/python3
"""Reference timing for HArnESS.Benchmarks/KMeansBenchmarks.cs: sklearn 1.2.1 MiniBatchKMeans with the HuBERT recipe's
settings (fairseq learn_kmeans.py; batch scaled to the corpus) on the same seeded synthetic features
(scripts/fixtures/synthetic_mixture.py == HArnESS.Distillation.Targets.SyntheticFeatures).

Run: OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 /usr/bin/python3 scripts/bench/kmeans_reference.py [repeats] [--json out.json]
Prints mean wall time per fit and the inertia on the full data, per seed.
"""
import json
import os
import sys
import time

import numpy as np
from sklearn.cluster import MiniBatchKMeans

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixtures"))
from synthetic_mixture import generate  # noqa: E402

# must match KMeansBenchmarks.cs
SEED, ROWS, DIM, COMPONENTS, SPREAD = 424242, 50000, 39, 64, 1.0
K, BATCH = 100, 5000


def main():
    args = [a for a in sys.argv[1:]]
    out = None
    if "--json" in args:
        out = args.pop(args.index("--json") + 1)
        args.remove("--json")
    repeats = int(args[0]) if args else 3
    x = generate(SEED, ROWS, DIM, COMPONENTS, SPREAD)
    times, inertias = [], []
    for rs in range(repeats):
        km = MiniBatchKMeans(n_clusters=K, init="k-means++", max_iter=100, batch_size=BATCH, verbose=0,
                             compute_labels=False, tol=0.0, max_no_improvement=100, init_size=None, n_init=20,
                             reassignment_ratio=0.0, random_state=rs)
        t0 = time.perf_counter()
        km.fit(x)
        times.append(time.perf_counter() - t0)
        inertias.append(float(-km.score(x)))
        print(f"seed {rs}: {times[-1]:.3f} s, steps {km.n_steps_}, inertia {inertias[-1]:.1f}")
    print(f"sklearn MiniBatchKMeans {ROWS}x{DIM} K={K} batch={BATCH} n_init=20: "
          f"mean {np.mean(times):.3f} s/fit (min {np.min(times):.3f}), mean inertia {np.mean(inertias):.1f}")
    if out:  # machine-readable, for scripts/bench/run.py
        import sklearn
        with open(out, "w") as f:
            json.dump({"tool": f"sklearn {sklearn.__version__}", "unit": "s", "results": {"fit": float(np.mean(times))},
                       "inertia": float(np.mean(inertias))}, f, indent=1)


if __name__ == "__main__":
    main()
