"""Incremental nights: prepared rows reused from the run store, merged with the newly prepared ones.

An incremental night prepares only new or changed documents (the store's
:meth:`~feedback_miner.store.nights.NightData.reusable_preparation` finds the others by content
hash and preparation settings); boilerplate and duplicates are then detected within that night's
batch (``--full`` prepares everything together again).
"""

from __future__ import annotations

import hashlib
import json

import pandas as pd
from pydantic import BaseModel

from feedback_miner.prepare import PrepareResult


def settings_hash(section: BaseModel) -> str:
    """Short hash of a config section's settings (reuse is only valid under the same ones)."""
    blob = json.dumps(section.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def merge_preparation(documents: pd.DataFrame, prep: PrepareResult, reused_docs: pd.DataFrame | None,
                      reused_stmts: pd.DataFrame | None, prepare_hash: str) -> PrepareResult:
    """Reused + newly prepared rows, in the input's document order (the same order a full run gives)."""
    docs, stmts = prep.documents.assign(prepare_hash=prepare_hash), prep.statements
    counts = dict(prep.counts)
    if reused_docs is not None:
        docs = pd.concat([reused_docs.reindex(columns=docs.columns), docs], ignore_index=True)
        stmts = pd.concat([reused_stmts.reindex(columns=stmts.columns), stmts], ignore_index=True)
        counts["reused_documents"] = len(reused_docs)
        counts["documents"] = len(docs)
        counts["statements"] = len(stmts)
        if "languages" in docs:
            counts["languages"] = {k: int(v) for k, v in docs["language"].value_counts().items()}
    order = pd.Series(range(len(documents)), index=documents["doc_id"].to_numpy())
    docs = docs.assign(_o=docs["doc_id"].map(order)).sort_values("_o", kind="stable").drop(columns="_o")
    stmts = (stmts.assign(_o=stmts["doc_id"].map(order)).sort_values(["_o", "position"], kind="stable")
             .drop(columns="_o"))
    return PrepareResult(documents=docs.reset_index(drop=True), statements=stmts.reset_index(drop=True),
                         counts=counts)
