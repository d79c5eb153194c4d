#!/usr/bin/python3
"""Runs HArnESS.Benchmarks (a chosen subset) and the Python reference scripts side by side on the same data, and
writes the results with their ratios to docs/measurements/<date>-<machine>-<subset>.json (schema "harness-bench/1",
rendered into the README by scripts/bench/readme_tables.py). Debian python3 only.

Run: /usr/bin/python3 scripts/bench/run.py --group quick --job short      (a quick check: minutes)
     /usr/bin/python3 scripts/bench/run.py --group features --job medium  (numbers worth reporting)
Groups: features, frontends, kmeans, pca, and quick (all four); pretraining, distillation, finetuning (one training
update each, batch 2 x 4 s, audio s/s; steps = all three) and offline (one demo-corpus distillation epoch, offline
targets against the online teacher: the ratio column is the per-epoch speed-up) and encoder (inference forward of
the teacher presets and students, 10 s, batch 1 and 8, real-time factor, beside torchaudio's models of the same shapes
for the cases in ENCODER_REFERENCE_CASES; Debian's torch is slow, so the others have no reference). --no-reference skips the Python side; --out FILE
writes elsewhere; --provenance TEXT is stored with the file (shown above its README table).
Every group records the 1-minute load average when it finished; the machine block records CPU model, cores,
libtorch threads and the load average at the start.
"""
import argparse
import datetime
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PY = "/usr/bin/python3"
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
# Groups whose classes bring their own job (Monitoring, 3 iterations) get no --job from the command line.
OWN_JOB = {"kmeans", "pca", "pretraining", "distillation", "finetuning", "offline", "encoder"}
QUICK = ["features", "frontends", "kmeans", "pca"]
STEPS = ["pretraining", "distillation", "finetuning"]
KNOWN = QUICK + STEPS + ["offline", "encoder"]
# torchaudio 0.13 on Debian's generic-BLAS torch needs about 25 s per HuBERT-base 10 s pass on 2 cores: batch 1 only.
ENCODER_REFERENCE_CASES = "hubert-base:1,distilhubert:1,fbank-student:1"
ENCODER_LABELS = {"hubert-base": "HuBERT-base", "wav2vec2-base": "wav2vec 2.0 base", "distilhubert": "DistilHuBERT",
                  "fbank-student": "Fbank student (features precomputed)", "subsampler-student": "Subsampler student (features precomputed)"}


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return re.sub(r"\s+", " ", line.split(":", 1)[1]).strip()
    except OSError:
        pass
    return "unknown CPU"


def slug(s):
    return re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-")


def bdn(group, job, artifacts):
    dll = os.path.join(ROOT, "HArnESS.Benchmarks", "bin", "Release", "net10.0", "HArnESS.Benchmarks.dll")
    args = ["dotnet", dll, "--group", group, "--artifacts", artifacts]
    if group not in OWN_JOB:
        args += ["--job", job]
    print("+", " ".join(args), flush=True)
    subprocess.run(args, cwd=ROOT, check=True)
    rows = {}
    for path in glob.glob(os.path.join(artifacts, "results", "*-report-full*.json")):
        with open(path) as f:
            for b in json.load(f)["Benchmarks"]:
                params = dict(p.split("=", 1) for p in b["Parameters"].split("&") if "=" in p)
                if b.get("Statistics"):  # None when the benchmark failed
                    rows[(b["Method"], tuple(sorted(params.items())))] = b["Statistics"]["Mean"]  # ns per operation
    return rows


def reference(script, args, env_extra, tmp):
    out = os.path.join(tmp, os.path.basename(script) + ".json")
    env = dict(os.environ, **env_extra)
    cmd = [PY, os.path.join(ROOT, "scripts", "bench", script)] + args + ["--json", out]
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=ROOT, env=env, check=True)
    with open(out) as f:
        return json.load(f)


def row(group, benchmark, unit, higher, harness, ref=None, tool=None):
    return {"group": group, "benchmark": benchmark, "unit": unit, "higher_is_better": higher, "harness": harness,
            "reference": ref, "reference_tool": tool if ref is not None else None}


def features(job, tmp, with_ref, cores):
    m = bdn("features", job, os.path.join(tmp, "features"))
    ref = reference("features_reference.py", [], {}, tmp) if with_ref else None
    out = []
    for threads in (1, 0):
        n = threads or cores
        for method, label in (("Fbank80", "Fbank80"), ("Mfcc", "MFCC-13")):
            for batch in (1, 8):
                mean = m[(f"{method}_Batch{batch}", (("Threads", str(threads)),))]
                r = ref["results"].get(f"threads={n} {method}_Batch{batch}") if ref else None
                out.append(row("features", f"{label}, 10 s, batch {batch}, {n} thread{'s' if n > 1 else ''}",
                               "audio s/s", True, 1e9 / mean, r, f"torchaudio `kaldi.{method.lower()[:5].rstrip('8')}`"))
    return out


def frontends(job, tmp, with_ref, cores):
    m = bdn("frontends", job, os.path.join(tmp, "frontends"))
    out = []
    for fe, label in (("cnn", "CNN (wav2vec 2.0 / HuBERT)"), ("fbank", "Fbank 80 → stack 2 → 512"),
                      ("subsampler", "Fbank 80 → Conv1d subsampler → 512")):
        for batch in (1, 8):
            mean = m[("Forward", tuple(sorted({"FrontEnd": fe, "Batch": str(batch)}.items())))]
            out.append(row("frontends", f"Front-end {label}, 10 s, batch {batch}, {cores} threads", "audio s/s", True,
                           batch * 10 / (mean / 1e9)))
    return out


def fit_group(group, script, ref_args, label, job, tmp, with_ref):
    m = bdn(group, job, os.path.join(tmp, group))
    ref = reference(script, ref_args, ONE_THREAD, tmp) if with_ref else None
    r = ref["results"]["fit"] if ref else None
    return [row(group, f"{label}, {how}, 1 thread", "s", False, m[(method, ())] / 1e9, r, ref["tool"] if ref else None)
            for method, how in (("InMemory", "in memory"), ("Streamed", "streamed"))]


STEP_LABELS = {
    "pretraining": lambda p: f"Masked pre-training step, {p['Model']}, 100 units, batch 2 × 4 s, {p['Device']}",
    "distillation": lambda p: f"Distillation step, DistilHuBERT from a HuBERT-base-shaped teacher (online), batch 2 × 4 s, {p['Device']}",
    "finetuning": lambda p: f"Fine-tuning step, 4-class classifier on {p['Upstream']} (trained in full), batch 2 × 4 s, {p['Device']}",
}


def step_group(group, job, tmp, cores):
    m = bdn(group, job, os.path.join(tmp, group))
    out = []
    for (method, params), mean in sorted(m.items()):
        p = dict(params)
        out.append(row(group, STEP_LABELS[group](p) + f", {cores} threads", "audio s/s", True, 2 * 4 / (mean / 1e9)))
    return out


def encoder(job, tmp, with_ref, cores):
    m = bdn("encoder", job, os.path.join(tmp, "encoder"))
    ref = reference("encoder_reference.py", ["--threads", str(cores), "--iterations", "3", "--cases", ENCODER_REFERENCE_CASES],
                    {}, tmp) if with_ref else None
    out = []
    for model, label in ENCODER_LABELS.items():
        for batch in (1, 8):
            mean = m.get(("Forward", tuple(sorted({"Model": model, "Batch": str(batch)}.items()))))
            if mean is None:
                continue
            r = ref["results"].get(f"{model} {batch}") if ref else None
            out.append(row("encoder", f"{label} forward, 10 s, batch {batch}, {cores} threads", "real-time factor", False,
                           mean / 1e9 / (batch * 10), r, ref["tool"] if ref else None))
    return out


def offline(job, tmp, cores):
    m = bdn("offline", job, os.path.join(tmp, "offline"))
    out = []
    pairs = sorted({dict(params)["Pair"] for (_, params) in m})
    names = {"tiny": "4 × 48 teacher → 2 × 48 student", "base": "HuBERT-base-shaped teacher → DistilHuBERT"}
    for pair in pairs:
        on = m.get(("Epoch", tuple(sorted({"Pair": pair, "Mode": "online"}.items()))))
        off = m.get(("Epoch", tuple(sorted({"Pair": pair, "Mode": "offline"}.items()))))
        if off is None:
            continue
        out.append(row("offline", f"Distillation epoch, demo train split (115 utt.), {names.get(pair, pair)}, offline float16 targets, {cores} threads",
                       "s", False, off / 1e9, None if on is None else on / 1e9, "online teacher"))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--group", default="quick", help="comma-separated: " + ", ".join(KNOWN) + ", quick or steps")
    ap.add_argument("--job", default="short", choices=["dry", "short", "medium", "long"])
    ap.add_argument("--no-reference", action="store_true")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--out")
    ap.add_argument("--provenance", default="Measured by `scripts/bench/run.py`.")
    ap.add_argument("--title", default="CPU")
    a = ap.parse_args()
    groups = []
    for g in a.group.split(","):
        groups += QUICK if g == "quick" else STEPS if g == "steps" else [g]
    for g in groups:
        if g not in KNOWN:
            sys.exit(f"unknown group {g!r}; known: {', '.join(KNOWN)}, quick, steps")
    cores = os.cpu_count()
    machine = {"cpu_model": cpu_model(), "cores": cores, "threads": int(os.environ.get("HARNESS_THREADS", cores)),
               "load_average_start": os.getloadavg()[0], "load_average_start_1_5_15": list(os.getloadavg())}
    if not a.no_build:
        subprocess.run(["dotnet", "build", "HArnESS.Benchmarks", "-c", "Release"], cwd=ROOT, check=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="harness-bench-") as tmp:
        for g in groups:
            if g == "features":
                rows = features(a.job, tmp, not a.no_reference, cores)
            elif g == "frontends":
                rows = frontends(a.job, tmp, not a.no_reference, cores)
            elif g in STEPS:
                rows = step_group(g, a.job, tmp, cores)
            elif g == "offline":
                rows = offline(a.job, tmp, cores)
            elif g == "encoder":
                rows = encoder(a.job, tmp, not a.no_reference, cores)
            elif g == "kmeans":
                rows = fit_group("kmeans", "kmeans_reference.py", ["3"], "Mini-batch k-means 50k×39, K=100", a.job, tmp,
                                 not a.no_reference)
            else:
                rows = fit_group("pca", "pca_reference.py", ["3"], "PCA fit 20k×768 → 256", a.job, tmp, not a.no_reference)
            load = os.getloadavg()[0]
            for r in rows:
                r["load_average"] = load
            results += rows
    date = datetime.date.today().isoformat()
    subset = slug(a.group)
    # Groups in OWN_JOB ignore --job (their classes set the job), so the file says so instead of naming --job.
    own = [g for g in groups if g in OWN_JOB]
    if not own:
        job = a.job
    elif len(own) == len(groups):
        job = "the benchmark classes' own job"
    else:
        job = f"{a.job}; {', '.join(own)}: the benchmark classes' own job"
    doc = {"schema": "harness-bench/1", "title": a.title, "date": date, "job": job, "subset": subset,
           "provenance": a.provenance, "machine": machine, "results": results}
    out = a.out or os.path.join(ROOT, "docs", "measurements", f"{date}-{cores}core-{slug(machine['cpu_model'])[:24].strip('-')}-{subset}.json")
    tmp_out = out + ".tmp"
    with open(tmp_out, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
        f.write("\n")
    os.replace(tmp_out, out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
