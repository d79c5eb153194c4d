#!/usr/bin/env bash
# Rebuilds the HArnESS demo corpus from scratch with espeak-ng and sox (deterministic: same files every time).
#   scripts/make_demo_corpus.sh            -> data/demo/        (small, checked in, <= 5 MB)
#   scripts/make_demo_corpus.sh --large    -> data/demo-large/  (every sentence/keyword in every style, 20 speakers; gitignored)
#   scripts/make_demo_corpus.sh --out DIR  -> DIR               (combinable with --large)
# The planning, manifests and label files are done by scripts/demo_corpus.py (python3 standard library only).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
large=0
out=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --large) large=1; shift ;;
    --out) [[ $# -ge 2 ]] || { echo "--out needs a folder" >&2; exit 2; }; out="$2"; shift 2 ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (expected --large, --out DIR)" >&2; exit 2 ;;
  esac
done
for tool in espeak-ng sox /usr/bin/python3; do
  command -v "$tool" >/dev/null || { echo "missing tool: $tool" >&2; exit 1; }
done
if [[ -z "$out" ]]; then
  if [[ $large -eq 1 ]]; then out="$repo/data/demo-large"; else out="$repo/data/demo"; fi
fi
args=(--out "$out")
[[ $large -eq 1 ]] && args+=(--large)
/usr/bin/python3 "$here/demo_corpus.py" "${args[@]}"
du -sh "$out"
