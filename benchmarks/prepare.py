"""Text-preparation benchmark: language-id accuracy and throughput of the whole prepare stage.

Prints:

1. language-id accuracy per language on ``../shared/data/umsab_tweet_sentiment/{english,french,
   italian}/val_text.txt`` (tweets; ``@user``/URLs go through the stage's own cleaning), beside
   py3langid's unrestricted module-level classifier on the raw tweets as a baseline in the same run;
2. on the bundled sample (``data/sample``, when present): language accuracy against
   ``labels.csv``, out-of-set detection, non-answer precision/recall, and a PII leak check;
3. throughput of ``prepare_statements`` on the sample documents (documents/s, statements/s) with
   and without NER, and as a multiple of a bare ``spacy.blank`` + sentencizer pass over the same
   texts measured in the same run (the least any spaCy-based segmentation costs).

    python benchmarks/prepare.py [--repeat 3] [--copies 2]
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

import pandas as pd

from feedback_miner.config import Config, PrepareConfig, SourcesConfig, SurveySource, TicketSource
from feedback_miner.prepare import prepare_statements
from feedback_miner.prepare.language import LanguageDetector
from feedback_miner.prepare.pii import PatternRedactor

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
SAMPLE = ROOT / "data" / "sample"
UMSAB = {"en": "english", "fr": "french", "it": "italian"}


def language_on_tweets(cfg: PrepareConfig) -> None:
    folder = SHARED / "umsab_tweet_sentiment"
    if not folder.is_dir():
        print(f"[skip] {folder} not found")
        return
    import py3langid

    detector = LanguageDetector(
        cfg.languages, cfg.min_language_chars, cfg.out_of_set_min_confidence, cfg.out_of_set_min_chars
    )
    print("\n== language id on UMSAB tweets (val) ==")
    print(f"{'lang':<5}{'n':>6}{'accuracy':>10}{'und':>7}{'out-of-set':>12}{'other in-set':>14}{'baseline':>10}")
    total_ok = total = 0
    for code, name in UMSAB.items():
        raw = (folder / name / "val_text.txt").read_text(encoding="utf-8").splitlines()
        texts = PatternRedactor().redact_many(raw)  # URLs and PII as the stage sees them
        codes, _ = detector.detect(texts)
        s = pd.Series(codes)
        acc = (s == code).mean()
        und = (s == "und").mean()
        oos = (~s.isin([*cfg.languages, "und"])).mean()
        base = pd.Series([py3langid.classify(t)[0] for t in raw]).eq(code).mean()
        total_ok += int((s == code).sum())
        total += len(s)
        print(f"{code:<5}{len(s):>6}{acc:>10.1%}{und:>7.1%}{oos:>12.1%}{1 - acc - und - oos:>14.1%}{base:>10.1%}")
    print(f"{'all':<5}{total:>6}{total_ok / total:>10.1%}")
    print("baseline: py3langid.classify over all 97 languages on the raw tweet, no cleaning, no und")


def sample_documents() -> pd.DataFrame | None:
    if not (SAMPLE / "surveys.csv").is_file() or not (SAMPLE / "tickets.jsonl").is_file():
        print(f"[skip] sample data not found under {SAMPLE}")
        return None
    from feedback_miner.ingest import ingest

    cfg = Config(
        sources=SourcesConfig(
            surveys=SurveySource(path=str(SAMPLE / "surveys.csv")),
            tickets=TicketSource(path=str(SAMPLE / "tickets.jsonl")),
        )
    )
    return ingest(cfg).documents


def quality_on_sample(docs: pd.DataFrame, cfg: PrepareConfig) -> None:
    labels_path = SAMPLE / "labels.csv"
    res = prepare_statements(docs, cfg)
    print("\n== sample data: quality ==")
    print(f"documents {len(docs)}, statements {len(res.statements)}")
    print("counts:", res.counts)
    if labels_path.is_file():
        lab = pd.read_csv(labels_path)
        lab["doc_id"] = lab["source"] + ":" + lab["source_id"].astype(str)
        m = res.documents.merge(lab[["doc_id", "language", "is_non_answer"]], on="doc_id", suffixes=("", "_gold"))
        answers = m[~m["is_non_answer_gold"].astype(bool)]
        in_set = answers[answers["language_gold"].isin(cfg.languages)]
        out_set = answers[~answers["language_gold"].isin(cfg.languages)]
        print(
            f"language accuracy, configured languages: {(in_set.language == in_set.language_gold).mean():.1%} "
            f"(n={len(in_set)}; und {(in_set.language == 'und').mean():.1%})"
        )
        for code, g in in_set.groupby("language_gold"):
            print(f"  {code}: {(g.language == code).mean():.1%} (n={len(g)})")
        if len(out_set):
            print(
                f"out-of-set answers recognised as their language: "
                f"{(out_set.language == out_set.language_gold).mean():.1%} (n={len(out_set)}), "
                f"counted out of set: {(~out_set.language.isin([*cfg.languages, 'und'])).mean():.1%}"
            )
        gold, pred = m["is_non_answer_gold"].astype(bool), m["is_non_answer"]
        tp = int((gold & pred).sum())
        print(
            f"non-answers: precision {tp / max(pred.sum(), 1):.1%}, recall {tp / max(gold.sum(), 1):.1%} "
            f"(gold {int(gold.sum())})"
        )
    blob = "\n".join(res.statements["text"]) + "\n".join(res.documents["text"])
    leaks = {
        "email": len(re.findall(r"[\w.+-]+@[\w-]+\.[\w.]+", blob)),
        "long digit runs (>=9)": len(re.findall(r"\d(?:[ .-]?\d){8,}", blob)),
    }
    print("left in the output after redaction:", leaks)


def _time(fn, repeat: int) -> tuple[float, float]:
    """Best wall-clock and best CPU seconds of ``repeat`` runs (CPU time is what a dedicated core costs)."""
    wall = cpu = float("inf")
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall, cpu = min(wall, time.perf_counter() - t), min(cpu, time.process_time() - c)
    return wall, cpu


def throughput(docs: pd.DataFrame, repeat: int, copies: int) -> None:
    import spacy

    frames = []
    for c in range(copies):  # distinct ids and customers so that copies are not duplicates of each other
        f = docs.copy()
        f["doc_id"] = f["doc_id"] + f"~{c}"
        f["customer_id"] = f["customer_id"].astype(str) + f"~{c}"
        frames.append(f)
    big = pd.concat(frames, ignore_index=True)
    n = len(big)
    fast, with_ner = PrepareConfig(ner_names=False), PrepareConfig(ner_names=True)
    prepare_statements(big.head(200), with_ner)  # load models once, outside the timings

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    raw = [t for t in big["text"].fillna("").tolist()]
    b_wall, b_cpu = _time(lambda: [list(d.sents) for d in nlp.pipe(raw, batch_size=256)], repeat)
    n_st = len(prepare_statements(big, fast).statements)
    f_wall, f_cpu = _time(lambda: prepare_statements(big, fast), repeat)
    e_wall, e_cpu = _time(lambda: prepare_statements(big, with_ner), 1)
    print(f"\n== throughput on {n} sample documents ({copies} copies; best of {repeat}) ==")
    print(f"{'':<44}{'docs/s wall':>12}{'docs/s CPU':>12}{'stmts/s wall':>14}{'x baseline':>12}")
    print(f"{'baseline: spacy.blank + sentencizer, raw':<44}{n / b_wall:>12,.0f}{n / b_cpu:>12,.0f}")
    print(
        f"{'prepare_statements, no NER':<44}{n / f_wall:>12,.0f}{n / f_cpu:>12,.0f}{n_st / f_wall:>14,.0f}"
        f"{f_cpu / b_cpu:>12.1f}"
    )
    print(
        f"{'prepare_statements, NER (en, fr) on':<44}{n / e_wall:>12,.0f}{n / e_cpu:>12,.0f}{n_st / e_wall:>14,.0f}"
        f"{e_cpu / b_cpu:>12.1f}"
    )
    print(f"NER multiplies the stage's CPU time by {e_cpu / f_cpu:.1f}")
    print("docs/s CPU = documents per CPU-second of this process (single-threaded stage); on a shared machine")
    print("wall-clock figures fall with the load of other processes.")
    try:
        import os

        print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    except OSError:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--copies", type=int, default=2, help="copies of the sample for the throughput run")
    args = parser.parse_args()
    cfg = PrepareConfig()
    language_on_tweets(cfg)
    docs = sample_documents()
    if docs is not None:
        quality_on_sample(docs, PrepareConfig(ner_names=False))
        throughput(docs, args.repeat, args.copies)


if __name__ == "__main__":
    main()
