"""prepare_statements_ray equals prepare_statements frame for frame (a local 2-CPU Ray cluster).

The documents are a slice of the bundled sample plus planted copies: exact and near copies by the
same customer, the same text from another customer, and copies among documents with no customer,
so that duplicates resolved per bucket of customers on the workers can be checked against the
local engine's pass over the whole batch. Small partitions make several buckets and files.
"""

from __future__ import annotations

import pandas as pd
import pytest
from test_pipeline import make_config, make_inputs

from feedback_miner.config import PrepareConfig, RunConfig, load_config
from feedback_miner.ingest import ingest
from feedback_miner.prepare import prepare_statements

pytestmark = pytest.mark.slow

ray = pytest.importorskip("ray", reason="ray is not installed: pip install 'feedback-miner[ray]' to test engine: ray")
pytest.importorskip("ray.data", reason="ray[data] is not installed: pip install 'feedback-miner[ray]'")


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def documents(tmp_path_factory) -> pd.DataFrame:
    folder = tmp_path_factory.mktemp("scale")
    make_inputs(folder / "inputs", n_surveys=160, n_tickets=60)
    docs = ingest(load_config(make_config(folder))).documents
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
    planted = pd.DataFrame(copies)
    no_customer = planted.iloc[:9].copy()  # copies among documents without a customer id
    no_customer["customer_id"] = None
    no_customer["doc_id"] = no_customer["doc_id"] + "-anon"
    # str like ingest's column (None rows made it object); a missing id is NaN, as from ingest
    docs = pd.concat([docs, planted, no_customer], ignore_index=True).astype({"customer_id": "str"})
    return docs.sample(frac=1.0, random_state=3).reset_index(drop=True)  # copies before originals too


@pytest.mark.parametrize("scope", ["customer", "all"])
def test_ray_prepare_equals_local(documents, cluster, tmp_path, scope):
    from feedback_miner.scale import prepare_statements_ray

    cfg = PrepareConfig(ner_names=False, dedup_scope=scope)
    run = RunConfig(engine="ray", ray_partition_rows=60, ray_batch_size=32)
    local = prepare_statements(documents, cfg)
    remote = prepare_statements_ray(documents, cfg, run, tmp_path)
    assert local.counts["exact_duplicates"] > 5 and local.counts["near_duplicates"] > 5
    pd.testing.assert_frame_equal(local.statements, remote.statements)
    pd.testing.assert_frame_equal(local.documents, remote.documents)
    assert local.counts == remote.counts
    assert list(tmp_path.iterdir()) == []  # scratch folders removed


def test_dedup_buckets_keep_a_customer_together():
    from feedback_miner.scale.ray_engine import dedup_buckets

    ids = pd.Series(["C1", "C2", None, "C1", "C3", None, "C2"], dtype="str")
    b = dedup_buckets(ids, 4)
    assert b[0] == b[3] and b[1] == b[6] and b[2] == b[5] == 0
    assert ((b >= 0) & (b < 4)).all()
    assert (dedup_buckets(ids, 1) == 0).all()
