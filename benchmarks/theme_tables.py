"""Themes as a reader sees them: the top themes of a config's data, with names, sizes and examples.

Usage::

    python benchmarks/theme_tables.py configs/demo.yaml configs/examples/*.yaml --cache .cache/<yours>.duckdb

For each config: ingest and prepare as the job does (``--limit N``: the first N documents of each
source, to keep a look quick), embed with the config's model (cached), build the themes and print
a Markdown table of the ``--top`` largest top-level themes (name, keywords, statements, two
examples), then the buckets of statements that are no topic (kinds) and the share of topic
statements left in ``other``. Reading the table is the check: names in customers' words, one
meaning per theme, no filler or generic theme among the topics.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd

from feedback_miner.config import load_config
from feedback_miner.embed import embed_texts, load_embedder
from feedback_miner.ingest import ingest
from feedback_miner.prepare import prepare_statements
from feedback_miner.store import RunStore
from feedback_miner.themes import build_themes
from feedback_miner.themes.kinds import KIND_LABELS

ROOT = Path(__file__).resolve().parents[1]


def _cell(text: object, width: int = 90) -> str:
    s = " ".join(str(text).split()).replace("|", "/")
    return s if len(s) <= width else s[: width - 1] + "…"


def theme_table(
    config: Path, store: RunStore, limit: int | None, top: int, model: str | None = None, overrides: dict | None = None
) -> None:
    """Print the top themes of one config's data (see the module docstring); ``overrides``: ThemesConfig fields."""
    cfg = load_config(config)
    if overrides:
        cfg.themes = cfg.themes.model_copy(update=overrides)
    docs = ingest(cfg).documents
    if limit:
        docs = docs.groupby("source", sort=False).head(limit).reset_index(drop=True)
    st = prepare_statements(docs, cfg.prepare).statements.reset_index(drop=True)
    t = time.perf_counter()
    embedder = load_embedder(model or cfg.embedding.model)
    X, new = embed_texts(st["text"].tolist(), embedder, store)
    embed_s = time.perf_counter() - t
    t = time.perf_counter()
    res = build_themes(st, X, cfg.themes, name_language=cfg.report.language, languages=cfg.prepare.languages,
                       embed=lambda t: embed_texts(list(t), embedder, store)[0])
    theme_s = time.perf_counter() - t
    a, themes = res.assignments, res.themes
    top_level = themes[themes["parent_id"].isna() & (themes["kind"] == "topic") & (themes["theme_id"] != "other")]
    n_sub = themes["parent_id"].notna().sum()
    print(f"\n### {config.name}: {len(docs)} documents, {len(st)} statements -> {len(top_level)} themes, "
          f"{n_sub} sub-themes (embedded {new} in {embed_s:.0f}s, themes {theme_s:.0f}s)\n")  # fmt: skip
    print("| # | name | keywords | statements | two examples |\n|---|---|---|---|---|")
    ranked = top_level.sort_values("n_statements", ascending=False, kind="stable").head(top)
    for i, (_, r) in enumerate(ranked.iterrows()):
        ex = " / ".join(f"“{_cell(x, 70)}”" for x in list(r["examples"])[:2])
        print(f"| {i + 1} | **{_cell(r['label'], 60)}** | {_cell(', '.join(list(r['keywords'])[:4]), 50)} | "
              f"{r['n_statements']} | {ex} |")  # fmt: skip
    kinds = a["kind"].value_counts()
    topic = a["kind"].eq("topic")
    other = a["theme_id"].eq("other") & topic
    print("\nno topic: " + ", ".join(f"{KIND_LABELS[k]} {kinds.get(k, 0)}" for k in KIND_LABELS)
          + f"; non-answers {a['kind'].isna().sum()}; 'other': {other.sum()} of {topic.sum()} topic statements "
          f"({other.sum() / max(topic.sum(), 1):.1%})")  # fmt: skip
    if (cfg.resolve("../data/sample") if config.name == "demo.yaml" else Path("/nonexistent")).exists():
        content = _planted_content(st["text"])  # the sample's planted theme sentences
        in_other = (a["theme_id"] == "other").to_numpy() & content
        in_kind = a["kind"].isin(list(KIND_LABELS)).to_numpy() & content
        print(f"sample content statements (a planted theme sentence): {content.sum()}; in 'other' {in_other.sum()} "
              f"({in_other.sum() / max(content.sum(), 1):.1%}); in a no-topic bucket {in_kind.sum()} "
              f"({in_kind.sum() / max(content.sum(), 1):.1%})")  # fmt: skip


def _planted_content(texts: pd.Series):
    """``content_mask`` of benchmarks/themes.py (the sample's planted theme sentences)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("themes_benchmark", ROOT / "benchmarks" / "themes.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.content_mask(texts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("configs", nargs="+", type=Path)
    ap.add_argument("--cache", type=Path, default=ROOT / ".cache" / "theme_tables.duckdb")
    ap.add_argument("--limit", type=int, default=None, help="first N documents of each source")
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--model", default=None, help="embedding model (default: the config's)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=JSON", help="override a ThemesConfig field")
    args = ap.parse_args()
    overrides = {k: json.loads(v) for k, v in (x.split("=", 1) for x in args.set)}
    args.cache.parent.mkdir(exist_ok=True)
    pd.set_option("display.width", 200)
    with RunStore(args.cache) as store:
        for config in args.configs:
            theme_table(config, store, args.limit, args.top, args.model, overrides)


if __name__ == "__main__":
    main()
