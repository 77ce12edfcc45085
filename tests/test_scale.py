"""prepare_statements_ray equals prepare_statements frame for frame, and RayAssigner the local
nearest-theme chunks label for label (a local 2-CPU Ray cluster).

The documents are a slice of the bundled sample plus planted copies: exact and near copies by the
same customer, the same text from another customer, and copies among documents with no customer,
so that duplicates resolved per bucket of customers on the workers can be checked against the
local engine's pass over the whole batch. Small partitions make several buckets and files.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from feedback_miner.config import PrepareConfig, RayConfig, ThemesConfig, load_config
from feedback_miner.ingest import ingest
from feedback_miner.prepare import prepare_statements
from feedback_miner.themes import build_themes
from feedback_miner.themes.cluster import assign_in_chunks, member_thresholds, normalize_rows

pytestmark = pytest.mark.slow

ray = pytest.importorskip("ray", reason="ray is not installed: pip install 'feedback-miner[ray]' to test engine: ray")
pytest.importorskip("ray.data", reason="ray[data] is not installed: pip install 'feedback-miner[ray]'")


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def documents(tmp_path_factory, sample_slice) -> pd.DataFrame:
    folder = tmp_path_factory.mktemp("scale")
    sample_slice.write_inputs(folder / "inputs", n_surveys=160, n_tickets=60)
    docs = ingest(load_config(sample_slice.write_config(folder))).documents
    long = docs[(docs["source"] == "survey") & (docs["text"].str.len() > 60)].head(24)
    copies = []
    for k, (_, d) in enumerate(long.iterrows()):
        exact = d.copy()
        exact["text"] = d["text"].upper() + " !!"  # equal after normalization
        near = d.copy()
        near["text"] = d["text"].replace(" ", "  ", 1) + " thanks"  # a few shingles more
        other = d.copy()
        other["customer_id"] = f"OTHER-{k}"  # the same words from someone else
        for j, c in enumerate((exact, near, other)):
            c["doc_id"], c["source_id"] = f"{d['doc_id']}-copy{j}", f"{d['source_id']}-copy{j}"
            c["created_at"] = d["created_at"] + pd.Timedelta(days=1 + j)
            copies.append(c)
    # Rows copied one by one come back as object columns: the copies keep ingest's dtypes.
    planted = pd.DataFrame(copies)
    for col in ("created_at", "resolved_at"):
        if col in docs:
            planted[col] = pd.to_datetime(planted[col], utc=True).astype(docs[col].dtype)
    no_customer = planted.iloc[:9].copy()  # copies among documents without a customer id
    no_customer["customer_id"] = None
    no_customer["doc_id"] = no_customer["doc_id"] + "-anon"
    # str like ingest's column (None rows made it object); a missing id is NaN, as from ingest
    docs = pd.concat([docs, planted, no_customer], ignore_index=True).astype({"customer_id": "str"})
    return docs.sample(frac=1.0, random_state=3).reset_index(drop=True)  # copies before originals too


@pytest.mark.parametrize("scope", ["customer", "all"])
def test_ray_prepare_equals_local(documents, cluster, tmp_path, scope):
    from feedback_miner.engine.ray_prepare import prepare_statements_ray

    cfg = PrepareConfig(ner_names=False, dedup_scope=scope)
    run = RayConfig(partition_rows=60, batch_size=32)
    local = prepare_statements(documents, cfg)
    remote = prepare_statements_ray(documents, cfg, run, tmp_path)
    assert local.counts["exact_duplicates"] > 5 and local.counts["near_duplicates"] > 5
    pd.testing.assert_frame_equal(local.statements, remote.statements)
    pd.testing.assert_frame_equal(local.documents, remote.documents)
    assert local.counts == remote.counts
    assert list(tmp_path.iterdir()) == []  # scratch folders removed


def test_dedup_buckets_keep_a_customer_together():
    from feedback_miner.prepare.passes import dedup_buckets

    ids = pd.Series(["C1", "C2", None, "C1", "C3", None, "C2"], dtype="str")
    b = dedup_buckets(ids, 4)
    assert b[0] == b[3] and b[1] == b[6] and b[2] == b[5] == 0
    assert (dedup_buckets(ids, 1) == 0).all()
    # Fixed numbers, not Python's per-process salted hash: the driver and every worker agree.
    sample_ids = pd.Series(["C10825", "C10351", "C2", "C3", "C1"])
    assert dedup_buckets(sample_ids, 4).tolist() == [0, 3, 1, 3, 3]
    assert dedup_buckets(sample_ids, 7).tolist() == [3, 6, 1, 0, 1]
    # Many customers fill every bucket about evenly (a bucket is one task's batch on a worker).
    counts = np.bincount(dedup_buckets(pd.Series([f"C{i:05d}" for i in range(4000)]), 4), minlength=4)
    assert counts.min() > 800, counts


def clustered_statements(n: int = 3000, k: int = 9, dim: int = 384, seed: int = 7):
    """Seeded unit vectors around ``k`` centres (e5-sized) and statements for them; every tenth is
    a short answer many customers gave (filler)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((k, dim)).astype(np.float32)
    group = rng.integers(0, k, n)
    X = normalize_rows(centres[group] + 2.5 * rng.standard_normal((n, dim)).astype(np.float32))
    texts = [f"statement {i} about topic {group[i]}" for i in range(n)]
    for i in range(0, n, 10):
        texts[i] = ("ok", "fine thanks", "nothing")[i % 3]
    st = pd.DataFrame({"statement_id": [f"s{i}" for i in range(n)], "text": texts,
                       "language": np.where(rng.random(n) < 0.3, "de", "en"),
                       "customer_id": [f"c{i}" for i in range(n)], "doc_id": [f"d{i}" for i in range(n)]})
    return st, X, group


def test_ray_assigner_equals_local_chunks(cluster, tmp_path):
    from feedback_miner.engine.ray import RayAssigner

    _, X, group = clustered_statements()
    C = normalize_rows(np.vstack([X[group == g].mean(0) for g in range(9)]))
    thr = member_thresholds(X, group, C, 0.5)  # a tight threshold: a good share of rows stays -1
    rows = np.random.default_rng(1).permutation(len(X))[:2500]  # a subset, out of order
    local = assign_in_chunks(X, rows, C, thr)
    assert (local == -1).mean() > 0.1 and len(np.unique(local)) == 10
    np.testing.assert_array_equal(assign_in_chunks(X, rows, C, thr, chunk=97), local)  # chunking changes nothing
    run = RayConfig(partition_rows=700, batch_size=128)
    np.testing.assert_array_equal(RayAssigner(run, tmp_path)(X, rows, C, thr), local)
    assert len(RayAssigner(run, tmp_path)(X, rows[:0], C, thr)) == 0
    assert list(tmp_path.iterdir()) == []  # scratch folders removed


def test_build_themes_with_ray_assigner_equals_local(cluster, tmp_path):
    """The fit sample is a fifth of the statements: the rest, and the filler, are placed by the assigner."""
    from feedback_miner.engine.ray import RayAssigner

    st, X, _ = clustered_statements()
    cfg = ThemesConfig(reducer="pca", fit_sample_size=500, min_cluster_size=15)
    local = build_themes(st, X, cfg)
    run = RayConfig(partition_rows=700, batch_size=256)
    remote = build_themes(st, X, cfg, assigner=RayAssigner(run, tmp_path))
    assert local.assignments["theme_id"].nunique() > 2
    pd.testing.assert_frame_equal(local.assignments, remote.assignments, check_exact=True)
    pd.testing.assert_frame_equal(local.themes, remote.themes)


@pytest.mark.parametrize("head", ["research", "research-tuned"])
def test_ray_scores_heads_that_read_texts(cluster, tmp_path, head):
    """The research heads read the texts too (n-grams; the tuned encoder): the workers get them."""
    from pathlib import Path

    from feedback_miner.config import SentimentConfig
    from feedback_miner.engine.ray import score_statements_ray
    from feedback_miner.sentiment import load_sentiment_model, score_statements

    texts = ["The app is great and support solved it in minutes.", "Billing is a nightmare, charged twice again.",
             "L'app si blocca ogni volta, pessimo servizio.", "Servizio clienti gentilissimo, grazie!",
             "La carte n'est jamais arrivée, c'est inadmissible.", "Aplicația este excelentă, mulțumesc!",
             "I changed my address last week.", "Rambursarea întârzie de o lună, sunt foarte nemulțumit."] * 3
    st = pd.DataFrame({"statement_id": [f"s{i}" for i in range(len(texts))], "text": texts})
    X = normalize_rows(np.random.default_rng(0).standard_normal((len(texts), 384)).astype(np.float32))
    model = load_sentiment_model(head, Path(__file__).resolve().parents[1])
    local = score_statements(st, X, model, SentimentConfig())
    run = RayConfig(partition_rows=10, batch_size=4)
    remote = score_statements_ray(st, X, model, SentimentConfig(), run, tmp_path)
    assert remote["statement_id"].tolist() == local["statement_id"].tolist()
    np.testing.assert_allclose(remote["sentiment"], local["sentiment"], atol=1e-5)
    assert remote["sentiment_label"].tolist() == local["sentiment_label"].tolist()
    assert local["sentiment_label"].nunique() >= 2  # texts, not the random vectors, carry the polarity
