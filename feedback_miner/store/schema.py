"""Every table of the run store, declared once (created when a writable store opens).

Fixed-shape tables are declared column by column. ``documents`` and ``statements`` hold the last
night's prepared frames, whose columns are the stage contracts of docs/architecture.md (plus the
input's extra columns, which ride along), so they are written whole by
:meth:`~feedback_miner.store.nights.NightData.save_night` and only declared here by name and key;
``run_pain_points`` likewise keeps the outcomes stage's pain-point columns as they are.

- ``runs``: one row per run (id, start/end, status, config hash, input fingerprints, counts, versions).
- ``embeddings``: vector cache keyed by (model, text hash), so a statement is embedded once, ever.
- ``sentiment_cache``: score and label keyed by (head and labelling settings, text hash).
- ``kind_cache``: a statement's kind (topic, generic praise...) keyed by (the kind rules' digest, hash of
  its language, sentiment label and text).
- ``documents``: normalized documents of the last succeeded night, keyed by ``doc_id``, with the
  ``content_hash`` and ``prepare_hash`` an incremental night reuses them by.
- ``statements``: that night's statements (every column of the statements table), keyed by ``statement_id``.
- ``run_themes``: each night's themes with centroids, for identity matching and theme history.
- ``run_language_means``: per-language mean vectors the night's centroids were fitted with.
- ``run_assignments``: statement -> theme of the last few nights (stable theme identity).
- ``run_pain_points``: each night's ranked pain points (for ``report --run``).
- ``run_manifests``: each night's manifest JSON (for ``report --run``).
"""

from __future__ import annotations

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR PRIMARY KEY,
    started_at TIMESTAMP,
    finished_at TIMESTAMP,
    status VARCHAR,            -- running | succeeded | failed
    error VARCHAR,
    config_hash VARCHAR,
    input_fingerprints VARCHAR, -- JSON
    counts VARCHAR,             -- JSON
    versions VARCHAR,           -- JSON
    output_dir VARCHAR
);
CREATE TABLE IF NOT EXISTS embeddings (
    model VARCHAR,
    text_hash VARCHAR,
    vector FLOAT[],
    PRIMARY KEY (model, text_hash)
);
CREATE TABLE IF NOT EXISTS sentiment_cache (
    model VARCHAR,
    text_hash VARCHAR,
    sentiment DOUBLE,
    PRIMARY KEY (model, text_hash)
);
ALTER TABLE sentiment_cache ADD COLUMN IF NOT EXISTS sentiment_label VARCHAR;
CREATE TABLE IF NOT EXISTS kind_cache (
    rules VARCHAR,
    key_hash VARCHAR,
    kind VARCHAR,
    PRIMARY KEY (rules, key_hash)
);
CREATE TABLE IF NOT EXISTS run_themes (
    run_id VARCHAR,
    theme_id VARCHAR,
    parent_id VARCHAR,
    label VARCHAR,
    keywords VARCHAR[],
    n_statements DOUBLE,
    n_customers DOUBLE,
    share DOUBLE,
    languages VARCHAR,
    examples VARCHAR[],
    example_ids VARCHAR[],
    status VARCHAR,            -- the theme's status that night (see the themes table contract)
    centroid DOUBLE[],
    sentiment_mean DOUBLE
);
CREATE TABLE IF NOT EXISTS run_language_means (
    language VARCHAR,
    mean DOUBLE[],
    n_statements BIGINT,
    run_id VARCHAR
);
CREATE TABLE IF NOT EXISTS run_assignments (
    statement_id VARCHAR,
    theme_id VARCHAR,
    subtheme_id VARCHAR,
    run_id VARCHAR
);
CREATE TABLE IF NOT EXISTS run_manifests (
    run_id VARCHAR,
    manifest VARCHAR           -- JSON
);
"""

# Tables whose columns are a stage's frame (see the module docstring): name -> what keys a row.
FRAME_TABLES = {"documents": "doc_id", "statements": "statement_id", "run_pain_points": "run_id, theme_id"}
