#!/usr/bin/python3
"""Builds the HArnESS demo corpus: synthetic Arabic and English speech made with espeak-ng and sox.

Standard library only; called by scripts/make_demo_corpus.sh. Everything is a fixed list, so two runs give
byte-identical files (sox runs with -D: no dither, hence no random noise).

Layout written under OUT:
  wav/<speaker>/<speaker>_<kind><nn>_<emotion>.wav      16 kHz mono PCM16
  {train,valid,test}.tsv                                 fairseq manifests (root line ".", relative to the tsv)
  {split}.ltr .wrd .emo .dia .spk                        labels, one line per manifest line (ASR, SER, DID, SV)
  kws_{split}.tsv + kws_{split}.kws                      keyword-only manifests with keyword class labels (KWS)
  sv_trials.txt                                          "1|0 pathA pathB" over the test split (SV)
  README.md                                              what is in it, statistics, how to rebuild
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import wave

SAMPLE_RATE = 16000

# Keyword concepts (class labels) with their English and Arabic words.
KEYWORDS = [
    ("yes", "yes", "نعم"),
    ("no", "no", "لا"),
    ("up", "up", "فوق"),
    ("down", "down", "تحت"),
    ("left", "left", "يسار"),
    ("right", "right", "يمين"),
    ("stop", "stop", "قف"),
    ("go", "go", "اذهب"),
    ("on", "on", "شغل"),
    ("off", "off", "أطفئ"),
]

# Text handed to espeak-ng where the undiacritised transcript is read too short; transcripts stay undiacritised.
SPOKEN = {
    "أطفئ": "أَطْفِئ",
}

SENTENCES_EN = [
    "open the door please",
    "the weather is nice today",
    "i like green tea",
    "turn on the lights",
    "where is the station",
    "call me tomorrow morning",
    "the cat is sleeping",
    "we need more time",
    "this is a short test",
    "good night and thank you",
    "read the next page",
    "play some music now",
]

SENTENCES_AR = [
    "افتح الباب من فضلك",
    "الجو جميل اليوم",
    "أحب الشاي الأخضر",
    "شغل الأضواء",
    "أين المحطة",
    "اتصل بي غدا صباحا",
    "القطة نائمة",
    "نحتاج وقتا أكثر",
    "هذا اختبار قصير",
    "تصبح على خير",
    "اقرأ الصفحة التالية",
    "شغل الموسيقى الآن",
]

# Emotion-like speaking styles: espeak-ng rate (-s, words/min), pitch (-p, 0-99) and loudness as the peak level in
# dBFS. Loudness is set with sox (gain -n) rather than espeak-ng's -a, which clips on some voices above ~100.
EMOTIONS = [
    ("neutral", 165, 50, -6),
    ("happy", 195, 75, -4),
    ("sad", 125, 30, -14),
    ("angry", 205, 40, -1),
]

# Speakers: (speaker id, espeak-ng voice+variant, language, dialect label). The variant is the speaker identity.
SPEAKERS_SMALL = [
    ("en-us-m1", "en-us+m1", "en", "en-us"),
    ("en-us-f2", "en-us+f2", "en", "en-us"),
    ("en-gb-m3", "en-gb+m3", "en", "en-gb"),
    ("en-gb-f4", "en-gb+f4", "en", "en-gb"),
    ("en-sc-m2", "en-gb-scotland+m2", "en", "en-sc"),
    ("en-sc-f1", "en-gb-scotland+f1", "en", "en-sc"),
    ("ar-m1", "ar+m1", "ar", "ar"),
    ("ar-f2", "ar+f2", "ar", "ar"),
    ("ar-m4", "ar+m4", "ar", "ar"),
    ("ar-f3", "ar+f3", "ar", "ar"),
]

SPEAKERS_LARGE = SPEAKERS_SMALL + [
    ("en-us-m5", "en-us+m5", "en", "en-us"),
    ("en-us-f4", "en-us+f4", "en", "en-us"),
    ("en-gb-m6", "en-gb+m6", "en", "en-gb"),
    ("en-gb-f1", "en-gb+f1", "en", "en-gb"),
    ("en-sc-m7", "en-gb-scotland+m7", "en", "en-sc"),
    ("en-sc-f3", "en-gb-scotland+f3", "en", "en-sc"),
    ("ar-m2", "ar+m2", "ar", "ar"),
    ("ar-f4", "ar+f4", "ar", "ar"),
    ("ar-m6", "ar+m6", "ar", "ar"),
    ("ar-f5", "ar+f5", "ar", "ar"),
]

SPLITS = ("train", "valid", "test")


def split_of(position):
    """Deterministic ~70/15/15 split by a speaker's utterance position: 3 -> valid, 6 -> test (mod 7)."""
    r = position % 7
    return "valid" if r == 3 else "test" if r == 6 else "train"


def letters(text):
    """fairseq letter targets: letters separated by spaces, '|' as word boundary and at the end."""
    return " ".join("|".join(text.split())) + " |"


def plan(large):
    """The utterance list: dicts with speaker, text, emotion, keyword class (or None) and relative path."""
    speakers = SPEAKERS_LARGE if large else SPEAKERS_SMALL
    utts = []
    for s_idx, (spk, voice, lang, dialect) in enumerate(speakers):
        sentences = SENTENCES_EN if lang == "en" else SENTENCES_AR
        items = []
        if large:
            # Every keyword and sentence in every style.
            for e_idx in range(len(EMOTIONS)):
                for k_idx, kw in enumerate(KEYWORDS):
                    items.append(("kw", k_idx, kw, e_idx))
                for n_idx, text in enumerate(sentences):
                    items.append(("snt", n_idx, text, e_idx))
        else:
            # Every keyword once and 6 of the 12 sentences (a different window per speaker), styles in rotation.
            for k_idx, kw in enumerate(KEYWORDS):
                items.append(("kw", k_idx, kw, (k_idx + 2 * s_idx) % len(EMOTIONS)))
            for j in range(6):
                n_idx = (s_idx * 5 + j) % len(sentences)
                # Style = (position + 2 * speaker) mod 4: balanced per speaker and not tied to the split rule.
                items.append(("snt", n_idx, sentences[n_idx], (len(KEYWORDS) + j + 2 * s_idx) % len(EMOTIONS)))
        for position, (kind, idx, payload, e_idx) in enumerate(items):
            emotion = EMOTIONS[e_idx][0]
            if kind == "kw":
                concept, word_en, word_ar = payload
                text = word_en if lang == "en" else word_ar
                keyword = concept
            else:
                text = payload
                keyword = None
            name = f"{spk}_{kind}{idx:02d}_{emotion}.wav"
            utts.append({
                "speaker": spk, "voice": voice, "lang": lang, "dialect": dialect,
                "text": text, "emotion": emotion, "style": EMOTIONS[e_idx], "keyword": keyword,
                "rel": f"wav/{spk}/{name}", "split": split_of(position + s_idx),
            })
    return utts


def synthesize(utt, out_dir, tmp_dir):
    """espeak-ng at its native rate, then sox: trim leading/trailing silence, peak level of the style, 50 ms pad,
    16 kHz mono PCM16, no dither."""
    _, rate, pitch, peak_db = utt["style"]
    raw = os.path.join(tmp_dir, "raw.wav")
    subprocess.run(["espeak-ng", "-v", utt["voice"], "-s", str(rate), "-p", str(pitch), "-a", "90",
                    "-w", raw, SPOKEN.get(utt["text"], utt["text"])], check=True)
    dst = os.path.join(out_dir, utt["rel"])
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    subprocess.run(["sox", "-D", "-V1", raw, "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16", "-e", "signed-integer", dst,
                    "silence", "1", "0.02", "0.5%", "reverse", "silence", "1", "0.02", "0.5%", "reverse",
                    "gain", "-n", str(peak_db), "pad", "0.05", "0.05"], check=True)


def check(utt, out_dir):
    """Reads the header (stdlib wave) and sox stat: 16 kHz mono 16-bit, 0.2-4 s, not silent, not clipped."""
    path = os.path.join(out_dir, utt["rel"])
    with wave.open(path, "rb") as w:
        if w.getframerate() != SAMPLE_RATE or w.getnchannels() != 1 or w.getsampwidth() != 2:
            sys.exit(f"{path}: expected 16 kHz mono PCM16")
        frames = w.getnframes()
    stat = subprocess.run(["sox", path, "-n", "stat"], capture_output=True, text=True, check=True).stderr
    values = {}
    for line in stat.splitlines():
        if ":" in line:
            key, _, value = line.partition(":")
            try:
                values[key.strip()] = float(value.split()[0])
            except (ValueError, IndexError):
                pass
    seconds = frames / SAMPLE_RATE
    rms = values.get("RMS     amplitude", 0.0)
    peak = values.get("Maximum amplitude", 0.0)
    if not 0.2 <= seconds <= 4.0:
        sys.exit(f"{path}: duration {seconds:.2f} s outside 0.2-4 s")
    if rms < 0.01:
        sys.exit(f"{path}: nearly silent (RMS {rms:.4f})")
    if peak >= 0.999:
        sys.exit(f"{path}: clipped (peak {peak:.4f})")
    utt["num_samples"] = frames
    utt["rms"] = rms


def write_lines(path, lines):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for line in lines:
            f.write(line + "\n")


def write_outputs(utts, out_dir, large):
    for split in SPLITS:
        rows = [u for u in utts if u["split"] == split]
        write_lines(os.path.join(out_dir, f"{split}.tsv"), ["."] + [f"{u['rel']}\t{u['num_samples']}" for u in rows])
        write_lines(os.path.join(out_dir, f"{split}.wrd"), [u["text"].upper() for u in rows])
        write_lines(os.path.join(out_dir, f"{split}.ltr"), [letters(u["text"].upper()) for u in rows])
        write_lines(os.path.join(out_dir, f"{split}.emo"), [u["emotion"] for u in rows])
        write_lines(os.path.join(out_dir, f"{split}.dia"), [u["dialect"] for u in rows])
        write_lines(os.path.join(out_dir, f"{split}.spk"), [u["speaker"] for u in rows])
        kws = [u for u in rows if u["keyword"] is not None]
        write_lines(os.path.join(out_dir, f"kws_{split}.tsv"), ["."] + [f"{u['rel']}\t{u['num_samples']}" for u in kws])
        write_lines(os.path.join(out_dir, f"kws_{split}.kws"), [u["keyword"] for u in kws])

    # SV trials over every pair of test utterances (1 = same speaker), paths relative to the corpus folder.
    test = [u for u in utts if u["split"] == "test"]
    trials = []
    for i in range(len(test)):
        for j in range(i + 1, len(test)):
            same = 1 if test[i]["speaker"] == test[j]["speaker"] else 0
            trials.append(f"{same} {test[i]['rel']} {test[j]['rel']}")
    write_lines(os.path.join(out_dir, "sv_trials.txt"), trials)
    write_readme(utts, out_dir, large, trials)


def write_readme(utts, out_dir, large, trials):
    total = sum(u["num_samples"] for u in utts) / SAMPLE_RATE
    speakers = sorted({u["speaker"] for u in utts})
    shortest = min(u["num_samples"] for u in utts) / SAMPLE_RATE
    longest = max(u["num_samples"] for u in utts) / SAMPLE_RATE
    by_split = {s: [u for u in utts if u["split"] == s] for s in SPLITS}
    size = 0
    for root, _, files in os.walk(out_dir):
        size += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    targets = sum(1 for t in trials if t.startswith("1 "))
    def count(key, split=None):
        rows = by_split[split] if split else utts
        out = {}
        for u in rows:
            out[u[key]] = out.get(u[key], 0) + 1
        return ", ".join(f"{k} {v}" for k, v in sorted(out.items()))
    flag = " --large" if large else ""
    folder = "data/demo-large" if large else "data/demo"
    lines = [
        f"# HArnESS demo corpus ({'large' if large else 'small, checked in'})",
        "",
        "Synthetic Arabic and English speech made with `espeak-ng` and `sox`: sentences and keywords, several",
        "voices as speakers, speaking styles as emotion-like classes, language/variant as a dialect-ID stand-in.",
        "It is deterministic (fixed lists, sox without dither): rebuilding gives the same files.",
        "",
        "## Rebuild (one command, from the repository root)",
        "```",
        f"scripts/make_demo_corpus.sh{flag}",
        "```",
        f"writes `{folder}/` (`--out DIR` writes elsewhere). Needs `espeak-ng`, `sox` and `/usr/bin/python3`.",
        "",
        "## Statistics",
        f"- files: {len(utts)} (train {len(by_split['train'])}, valid {len(by_split['valid'])}, test {len(by_split['test'])})",
        f"- audio: {total:.1f} s ({total / 60:.2f} min), 16 kHz mono PCM16, {shortest:.2f}-{longest:.2f} s per file"
        " (leading/trailing silence trimmed, 50 ms pad)",
        f"- speakers ({len(speakers)}): {', '.join(speakers)}",
        f"- emotion classes (`.emo`): {count('emotion')}",
        f"- dialect classes (`.dia`): {count('dialect')}",
        f"- keyword utterances: {sum(1 for u in utts if u['keyword'])} ({len(KEYWORDS)} classes: {', '.join(k[0] for k in KEYWORDS)})",
        f"- SV trials (`sv_trials.txt`): {len(trials)} ({targets} target)",
        f"- size on disk: {size / 1e6:.2f} MB",
        "",
        "## Files",
        "| file | content | task |",
        "|---|---|---|",
        "| `wav/<speaker>/<speaker>_<kind><nn>_<emotion>.wav` (kind `kw` keyword, `snt` sentence) | audio | all |",
        "| `{train,valid,test}.tsv` | fairseq manifest: first line root (`.` = the tsv's folder), then `path<TAB>num_samples` | all |",
        "| `{split}.wrd` | transcript, words (English upper-case Latin, Arabic script without diacritics) | ASR |",
        "| `{split}.ltr` | letters separated by spaces, `\\|` after every word (fairseq style) | ASR (CTC) |",
        "| `{split}.emo` | speaking style: neutral, happy (fast, high), sad (slow, low, quiet), angry (fast, low, loud) | SER |",
        "| `{split}.dia` | language/variant: ar, en-us, en-gb, en-sc (Scottish) | DID |",
        "| `{split}.spk` | speaker id (espeak-ng voice + variant) | SV / speaker ID |",
        "| `kws_{split}.tsv` + `kws_{split}.kws` | keyword utterances only, with the keyword class (same class for the English and Arabic word) | KWS |",
        "| `sv_trials.txt` | `1 pathA pathB` (same speaker) or `0 pathA pathB` for every pair of test utterances, paths relative to this folder | SV |",
        "",
        "Label files have one line per manifest entry (same order). Sentences are not in the KWS manifests, so",
        "keyword spotting is a closed-set classification over the 10 keyword classes.",
        "",
        "## Styles (espeak-ng `-s` rate in words/min, `-p` pitch 0-99, loudness as peak level set by `sox gain -n`)",
        "| class | rate | pitch | peak dBFS |",
        "|---|---|---|---|",
    ] + [f"| {n} | {r} | {p} | {a} |" for n, r, p, a in EMOTIONS] + [
        "",
        "## Speakers (espeak-ng voice+variant)",
        "| speaker | voice | dialect |",
        "|---|---|---|",
    ] + [f"| {s} | `{v}` | {d} |" for s, v, _, d in (SPEAKERS_LARGE if large else SPEAKERS_SMALL)] + [
        "",
        "Splits: the n-th utterance of speaker s (both from 0) goes to valid if (n + s) mod 7 = 3, to test if it is 6, else train,",
        "so every speaker, dialect and (nearly) every style occurs in every split (closed-set speakers).",
        "The voices are espeak-ng's formant voices (MBROLA voices are not installed); the speech is intelligible but",
        "robotic, which is all the demo, the tests and the quickstart need.",
    ]
    write_lines(os.path.join(out_dir, "README.md"), lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--large", action="store_true", help="every sentence and keyword in every style, 20 speakers")
    parser.add_argument("--out", required=True, help="output folder (replaced)")
    args = parser.parse_args()
    out_dir = os.path.abspath(args.out)
    if os.path.isdir(out_dir):
        shutil.rmtree(out_dir)
    os.makedirs(out_dir)
    utts = plan(args.large)
    with tempfile.TemporaryDirectory() as tmp:
        for n, utt in enumerate(utts, 1):
            synthesize(utt, out_dir, tmp)
            check(utt, out_dir)
            if n % 50 == 0 or n == len(utts):
                print(f"{n}/{len(utts)} files", flush=True)
    write_outputs(utts, out_dir, args.large)
    total = sum(u["num_samples"] for u in utts) / SAMPLE_RATE
    print(f"wrote {len(utts)} files, {total:.1f} s of audio, to {out_dir}")


if __name__ == "__main__":
    main()
