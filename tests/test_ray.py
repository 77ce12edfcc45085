"""engine: ray gives the local engine's outputs (a local 2-CPU Ray cluster on loopback).

The demo (configs/demo.yaml: the whole bundled sample) runs with both engines, each with its own
run store: the local run is the session's ``demo_run``. Half of the Ray store's embedding cache is
copied from the local run, so the Ray workers embed the other half (the cache logic and the workers
are both exercised, at half the embedding cost).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from feedback_miner.config import load_config
from feedback_miner.embed import text_hashes
from feedback_miner.pipeline import run_job
from feedback_miner.store import RunStore

pytestmark = pytest.mark.slow

ray = pytest.importorskip("ray", reason="ray is not installed: pip install 'feedback-miner[ray]' to test engine: ray")
pytest.importorskip("ray.data", reason="ray[data] is not installed: pip install 'feedback-miner[ray]'")

PREPARED = ["statement_id", "doc_id", "source", "customer_id", "created_at", "position", "language",
            "language_confidence", "text", "is_subject", "is_non_answer", "is_duplicate_of"]


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def both_runs(tmp_path_factory, demo_run, demo_config, cluster):
    folder = tmp_path_factory.mktemp("ray_job")
    ray_cfg = load_config(demo_config(folder, output_dir=str(folder / "out_ray"), engine="ray",
                                      ray={"partition_rows": 2000, "batch_size": 256}))
    local = demo_run.result
    with RunStore(demo_run.config.store_path, read_only=True) as src:
        cached = src.cache.all_embeddings()
    # the statements' vectors only: the cache also holds the phrases theme names were chosen among
    texts = pd.read_parquet(local.run_dir / "statements.parquet")["text"].tolist()
    cached = cached[cached["text_hash"].isin(set(text_hashes(texts).tolist()))]
    ray_cfg.output_dir.mkdir(parents=True, exist_ok=True)
    with RunStore(ray_cfg.store_path) as dst:
        half = cached.iloc[::2]
        for model, g in half.groupby("model"):
            dst.cache.put_embeddings(model, g["text_hash"].tolist(), np.vstack(g["vector"].to_numpy()))
    remote = run_job(ray_cfg)
    return local, remote, len(cached) - len(half)


def test_ray_workers_embedded_what_the_cache_lacked(both_runs):
    _, remote, missing = both_runs
    assert remote.manifest["stages"]["embed"]["embedded"] == missing > 0


def test_prepared_statements_are_identical(both_runs):
    local, remote, _ = both_runs
    a = pd.read_parquet(local.run_dir / "statements.parquet")
    b = pd.read_parquet(remote.run_dir / "statements.parquet")
    pd.testing.assert_frame_equal(a[PREPARED], b[PREPARED])
    # A document's sentiment is the head on its vector: float sums in another batch order differ in
    # the last bits (~4e-7), so model scores match to a tolerance and everything else exactly.
    pd.testing.assert_frame_equal(pd.read_parquet(local.run_dir / "documents.parquet"),
                                  pd.read_parquet(remote.run_dir / "documents.parquet"), check_exact=False, atol=1e-5)
    for key in ("redactions", "languages", "exact_duplicates", "near_duplicates", "boilerplate_lines_removed",
                "non_answers"):
        assert local.manifest["counts"][key] == remote.manifest["counts"][key], key


def test_themes_sentiment_and_ranking_match(both_runs):
    local, remote, _ = both_runs
    a = pd.read_parquet(local.run_dir / "statements.parquet").set_index("statement_id")
    b = pd.read_parquet(remote.run_dir / "statements.parquet").set_index("statement_id").loc[a.index]
    themed = a["theme_id"].notna()
    assert themed.sum() > 5000
    assert adjusted_rand_score(a.loc[themed, "theme_id"], b.loc[themed, "theme_id"]) >= 0.99
    np.testing.assert_allclose(a["sentiment"], b["sentiment"], atol=1e-5)
    assert (a["sentiment_label"] == b["sentiment_label"]).mean() >= 0.999
    top = [p.sort_values("rank").dropna(subset=["rank"])["label"].head(5).tolist()
           for p in (local.pain_points, remote.pain_points)]
    assert len(top[0]) == 5 and top[0] == top[1]
