"""report.html of a 100k-document run: file size, render time, and load time in headless Chromium.

The whole 100k job takes minutes on 2 cores; the report only needs its tables, so this builds a
synthetic report input of the same shape as the 100k benchmark run (docs/benchmarks.md, "Whole
job": 99,696 documents, 325,898 statements): 25 themes with 3 sub-themes each plus "other",
5 languages, surveys (NPS) and tickets (CSAT), 18 weeks, 30,000 customers with a segment and a
plan. It renders the report, writes it, opens it offline in headless Chromium (the browser
tests' setup, ``scripts/install_browser.sh``) and prints size, render time and load time.

    python benchmarks/report_size.py                      # 100k documents
    python benchmarks/report_size.py --documents 10000 --out /tmp/report-10k.html

Targets (issue #22): under 10 MB and opening in under 3 s.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from feedback_miner.config import ReportConfig  # noqa: E402
from feedback_miner.report import ReportInput, render_report  # noqa: E402

LANGUAGES = {"en": 0.45, "it": 0.2, "fr": 0.18, "ro": 0.15, "es": 0.02}
WORDS = "card transfer refund app login fee support account payment blocked slow waiting error update".split()  # noqa: SIM905


def synthetic_input(n_docs: int, seed: int = 0) -> ReportInput:
    """Tables of a run with ``n_docs`` documents (about 3.3 statements each)."""
    rng = np.random.default_rng(seed)
    n_st = int(n_docs * 3.27)
    theme_ids = [f"T{i:04d}" for i in range(1, 26)]
    weights = rng.dirichlet(np.ones(26) * 2)  # 25 themes + other
    theme = rng.choice([*theme_ids, "other"], n_st, p=weights)
    sub_k = rng.integers(0, 4, n_st)  # 3 sub-themes and "in none"
    sub = np.where(
        (theme != "other") & (sub_k > 0), np.char.add(np.char.add(theme.astype(str), "."), sub_k.astype(str)), None
    )
    doc = rng.integers(0, n_docs, n_st)
    survey = doc % 6 != 0
    words = rng.choice(WORDS, (n_st, 8))
    st = pd.DataFrame(
        {
            "statement_id": [f"s{i}" for i in range(n_st)],
            "doc_id": [f"d{d}" for d in doc],
            "source": np.where(survey, "survey", "ticket"),
            "customer_id": [f"C{c}" for c in rng.integers(0, 30_000, n_st)],
            "created_at": pd.Timestamp("2026-07-20", tz="UTC")
            + pd.to_timedelta(rng.integers(0, 123 * 86400, n_st), "s"),
            "language": rng.choice(list(LANGUAGES), n_st, p=list(LANGUAGES.values())),
            "text": [" ".join(w) + f" ({i % 97})." for i, w in enumerate(words)],
            "theme_id": theme,
            "subtheme_id": sub,
            "sentiment": np.clip(rng.normal(-0.2, 0.5, n_st), -1, 1),
            "similarity": rng.random(n_st),
        }
    )
    st["sentiment_label"] = np.select(
        [st["sentiment"] < -0.2, st["sentiment"] > 0.2], ["negative", "positive"], "neutral"
    )
    docs = pd.DataFrame({"doc_id": [f"d{d}" for d in range(n_docs)]})
    is_survey = np.arange(n_docs) % 6 != 0
    docs["score"] = np.where(is_survey, rng.integers(0, 11, n_docs), rng.integers(1, 6, n_docs)).astype(float)
    docs["score_scale"] = np.where(is_survey, "nps", "csat")
    customers = pd.DataFrame(
        {
            "customer_id": [f"C{c}" for c in range(30_000)],
            "churned": rng.random(30_000) < 0.2,
            "segment": rng.choice(["smb", "mid", "enterprise"], 30_000),
            "plan": rng.choice(["Starter", "Plus", "Pro", "Business", "Enterprise"], 30_000),
        }
    )
    counts = st.groupby("theme_id").size()
    sub_counts = st.dropna(subset=["subtheme_id"]).groupby("subtheme_id").size()
    rows = [
        {
            "theme_id": t,
            "parent_id": None,
            "label": f"theme {t} · " + " · ".join(rng.choice(WORDS, 3)),
            "n_statements": int(counts.get(t, 0)),
            "n_customers": int(counts.get(t, 0) * 0.7),
        }
        for t in [*theme_ids, "other"]
    ] + [
        {
            "theme_id": s,
            "parent_id": s.split(".")[0],
            "label": f"sub-theme {s}",
            "n_statements": int(n),
            "n_customers": int(n * 0.8),
        }
        for s, n in sub_counts.items()
    ]
    themes = pd.DataFrame(rows)
    themes["share"] = themes["n_statements"] / len(st)
    themes["sentiment_mean"] = st.groupby("theme_id")["sentiment"].mean().reindex(themes["theme_id"]).to_numpy()
    manifest = {
        "run_id": f"synthetic-{n_docs}",
        "config_hash": "0" * 16,
        "counts": {"documents": n_docs, "statements": n_st, "customers": 30_000},
    }
    return ReportInput(manifest=manifest, themes=themes, statements=st, documents=docs, customers=customers)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--documents", type=int, default=100_000)
    ap.add_argument("--out", type=Path, default=None, help="where to write the report (default: a temp file)")
    args = ap.parse_args()
    data = synthetic_input(args.documents)
    t0 = time.perf_counter()
    html = render_report(data, ReportConfig())
    render_s = time.perf_counter() - t0
    out = args.out or Path(tempfile.mkdtemp()) / "report.html"
    out.write_text(html, encoding="utf-8")
    size = out.stat().st_size
    print(
        f"{args.documents:,} documents, {len(data.statements):,} statements: report.html {size / 1e6:.2f} MB "
        f"(target < 10 MB), rendered in {render_s:.1f} s"
    )
    from test_report_browser import check_report_in_browser

    r = check_report_in_browser(out, screenshot=None)
    print(
        f"headless Chromium, offline: navigation {r['load_s']:.2f} s, load event {r['load_event_ms'] / 1000:.2f} s "
        f"(target < 3 s); {r['theme_sections']} theme sections; external requests: {len(r['external_requests'])}; "
        f"console errors: {len(r['console_errors'])}"
    )


if __name__ == "__main__":
    main()
