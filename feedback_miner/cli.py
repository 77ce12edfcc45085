"""Command line: thin wrappers that parse, load the config, call the pipeline and map errors to exit codes.

Exit codes: 0 ok, 1 failure, 2 bad input or config (or an unreadable run store), 3 another run holds
the lock or the run store (a run is in progress).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path

import pandas as pd
import typer

from feedback_miner import __version__
from feedback_miner.config import Config, ConfigError, load_config
from feedback_miner.ingest import InputError

EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT, EXIT_LOCKED = 0, 1, 2, 3

app = typer.Typer(help="feedback-miner: customer feedback -> themes, sentiment, churn-linked pain points.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)


class LogFormat(StrEnum):
    text = "text"
    json = "json"


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with stage fields when a log record carries them."""

    _skip = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        payload = {"ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"), "level": record.levelname.lower(),
                   "logger": record.name, "message": record.getMessage()}
        payload.update({k: v for k, v in record.__dict__.items() if k not in self._skip})
        return json.dumps(payload, default=str, ensure_ascii=False)


def _setup_logging(fmt: LogFormat, verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == LogFormat.json
                         else logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))
    root = logging.getLogger("feedback_miner")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    root.propagate = False


def _fail(msg: str, code: int) -> None:
    typer.echo(f"error: {msg}", err=True)
    raise typer.Exit(code)


def _load(config: Path, output: Path | None, models: bool = False) -> Config:
    from feedback_miner.preflight import check_models

    try:
        cfg = load_config(config)
        if models:
            check_models(cfg, config)
    except ConfigError as e:
        _fail(str(e), EXIT_BAD_INPUT)
    if output is not None:
        cfg.run.output_dir = str(output.resolve())
    return cfg


def _version(value: bool) -> None:
    if value:
        typer.echo(f"feedback-miner {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """Run `feedback-miner COMMAND --help` for each command's options."""


ConfigOpt = typer.Option(..., "--config", "-c", exists=False, help="YAML config file.")


@app.command()
def run(
    config: Path = ConfigOpt,
    output: Path | None = typer.Option(None, "--output", "-o", help="Override run.output_dir."),
    since: str | None = typer.Option(None, help="Only documents created on or after this date."),
    full: bool = typer.Option(False, "--full", help="Ignore caches and previous themes; recompute everything."),
    log_format: LogFormat = typer.Option(LogFormat.text, "--log-format", help="text or json (for schedulers)."),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
) -> None:
    """Run the whole job: ingest, prepare, embed, sentiment, themes, outcomes, report."""
    from feedback_miner.lock import RunLocked
    from feedback_miner.pipeline import run_job
    from feedback_miner.store.database import StoreBusy, StoreUnreadable

    _setup_logging(log_format, verbose)
    cfg = _load(config, output, models=True)
    since_ts = None
    if since:
        try:
            since_ts = pd.Timestamp(since, tz="UTC")
        except ValueError:
            _fail(f"--since: cannot parse date '{since}'", EXIT_BAD_INPUT)
    progress = _progress() if sys.stderr.isatty() and log_format == LogFormat.text else None
    try:
        if progress:
            with progress:
                task = progress.add_task("starting", total=7)
                result = run_job(cfg, since=since_ts, full=full,
                                 on_stage=lambda s: progress.update(task, description=s, advance=1))
        else:
            result = run_job(cfg, since=since_ts, full=full)
    except (InputError, ConfigError, StoreUnreadable) as e:
        _fail(str(e), EXIT_BAD_INPUT)
    except (RunLocked, StoreBusy) as e:
        _fail(str(e), EXIT_LOCKED)
    except KeyboardInterrupt:
        _fail("interrupted", EXIT_FAILURE)
    except Exception as e:
        logging.getLogger("feedback_miner").exception("run failed")
        _fail(f"run failed: {type(e).__name__}: {e}", EXIT_FAILURE)
    c = result.manifest["counts"]
    typer.echo(f"run {result.run_id} succeeded: {c['documents']} documents, {c['statements']} statements, "
               f"{c['quarantined']} quarantined -> {result.run_dir}")


def _progress():
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                    transient=True)


@app.command()
def validate(config: Path = ConfigOpt) -> None:
    """Check the config, its models and every input file without running: a summary by reason per
    source, the quarantined rows; exit 2 when the run would refuse the inputs."""
    from feedback_miner.ingest import ingest
    from feedback_miner.ingest.summary import by_reason

    cfg = _load(config, None, models=True)
    try:
        res = ingest(cfg, stop_on_refusal=False)
    except InputError as e:
        _fail(str(e), EXIT_BAD_INPUT)
    for kind, c in res.counts.items():
        emptied = f", {c['fields_emptied']} fields emptied or cut" if c["fields_emptied"] else ""
        typer.echo(f"{kind}: {c['read']} rows read, {c['valid']} valid, {c['quarantined']} quarantined{emptied}")
        if c["absent_columns"]:
            typer.echo(f"  columns not in the file (optional): {', '.join(c['absent_columns'])}")
        records = res.quarantine[res.quarantine["source"] == kind].to_dict("records")
        for key, n, examples in by_reason(records):
            typer.echo(f"  {n:>6}  {key} (e.g. {', '.join(examples)})")
    for kind in res.skipped:
        typer.echo(f"{kind}: not configured, skipped")
    if res.unlinked and res.unlinked["count"]:
        u = res.unlinked
        typer.echo(f"feedback customers without a customer record: {u['count']} of {u['of']} "
                   f"(e.g. {', '.join(u['examples'])})")
    for r in res.quarantine.head(50).itertuples():
        typer.echo(f"  {Path(r.file).name}:{r.row} [{r.column}] {r.reason}")
    if len(res.quarantine) > 50:
        typer.echo(f"  ... {len(res.quarantine) - 50} more")
    if res.refused:
        _fail(" | ".join(res.refused), EXIT_BAD_INPUT)


WaitOpt = typer.Option(0.0, "--wait", help="Seconds to wait for a run in progress to release the store.")


def _read_store(cfg: Config, wait: float, read: Callable):
    """``read(store)`` on the store opened read-only, waiting up to ``wait`` seconds for a running job;
    a store in use or unreadable is a one-line error (exit 3 / exit 2)."""
    from feedback_miner.store import RunStore
    from feedback_miner.store.database import StoreBusy, StoreUnreadable

    deadline = time.monotonic() + wait
    while True:
        try:
            with RunStore(cfg.store_path, read_only=True) as store:
                return read(store)
        except StoreBusy as e:
            if time.monotonic() >= deadline:
                _fail(str(e), EXIT_LOCKED)
            time.sleep(min(1.0, max(0.05, deadline - time.monotonic())))
        except StoreUnreadable as e:
            _fail(str(e), EXIT_BAD_INPUT)


def _cell(v: object) -> str:
    """A table cell as text: missing values (None, NaN, NaT) are empty, not 'nan'."""
    return "" if v is None or (not isinstance(v, str | list | dict) and pd.isna(v)) else str(v)


@app.command()
def runs(config: Path = ConfigOpt, limit: int = typer.Option(20, help="How many recent runs."),
         wait: float = WaitOpt) -> None:
    """List past runs with their status."""
    cfg = _load(config, None)
    if not cfg.store_path.exists():
        typer.echo("no runs yet")
        return
    df = _read_store(cfg, wait, lambda store: store.runs().tail(limit))
    for r in df.itertuples():
        counts = json.loads(r.counts) if isinstance(r.counts, str) else {}
        started = "" if pd.isna(r.started_at) else f"{r.started_at:%Y-%m-%d %H:%M:%S}"
        typer.echo(f"{r.run_id}  {r.status:<9}  {started}  "
                   f"docs={counts.get('documents', '-')}  {_cell(r.error)}".rstrip())


@app.command()
def report(
    config: Path = ConfigOpt,
    run_id: str = typer.Option("latest", "--run", help="Run id or 'latest'."),
    wait: float = WaitOpt,
) -> None:
    """Rebuild report.html and pain_points.md of a run from the run store (into the config's
    output folder), without recomputing."""
    from feedback_miner.report.assemble import rebuild_report

    cfg = _load(config, None)
    if not cfg.store_path.exists():
        _fail(f"{cfg.store_path}: no run store (no run yet)", EXIT_BAD_INPUT)
    try:
        path = _read_store(cfg, wait, lambda store: rebuild_report(cfg, run_id, store))
    except LookupError as e:
        _fail(str(e), EXIT_BAD_INPUT)
    typer.echo(f"wrote {path}")


store_app = typer.Typer(help="Check or rebuild the run store.", no_args_is_help=True)
app.add_typer(store_app, name="store")


@store_app.command("check")
def store_check(config: Path = ConfigOpt) -> None:
    """Open the run store read-only and count each table's rows; exit 2 when it cannot be read."""
    from feedback_miner.store.database import StoreBusy, StoreUnreadable
    from feedback_miner.store.rebuild import check_store

    cfg = _load(config, None)
    if not cfg.store_path.exists():
        typer.echo(f"{cfg.store_path}: no run store yet")
        return
    try:
        counts = check_store(cfg.store_path)
    except StoreUnreadable as e:
        _fail(str(e), EXIT_BAD_INPUT)
    except StoreBusy as e:
        _fail(str(e), EXIT_LOCKED)
    typer.echo(f"{cfg.store_path}: ok, " + ", ".join(f"{t} {n}" for t, n in counts.items()))


@store_app.command("rebuild")
def store_rebuild(config: Path = ConfigOpt) -> None:
    """Move the run store aside and rebuild it from the run folders (runs, manifests, theme history, pain
    points, the newest night's documents and statements); caches start empty and the next night refits."""
    from feedback_miner.lock import RunLock, RunLocked
    from feedback_miner.store.rebuild import rebuild_store

    cfg = _load(config, None)
    try:
        with RunLock(cfg.output_dir / ".lock"):
            aside, recovered = rebuild_store(cfg.store_path, cfg.output_dir)
    except RunLocked as e:
        _fail(str(e), EXIT_LOCKED)
    kept = f"old file kept as {aside}; " if aside else ""
    typer.echo(f"{cfg.store_path}: rebuilt, {kept}{len(recovered)} runs recovered from {cfg.output_dir}")


def _mount_subapps() -> None:
    # Sub-apps live with their stage; a missing optional one must not break the main CLI.
    try:
        from feedback_miner.sentiment.cli import sentiment_app

        app.add_typer(sentiment_app, name="sentiment", help="Train or evaluate the sentiment head.")
    except ImportError:
        pass
    try:
        from feedback_miner.embedding_models import models_app

        app.add_typer(models_app, name="models", help="Prepare local embedding models.")
    except ImportError:
        pass


_mount_subapps()
