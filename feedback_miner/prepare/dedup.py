"""Exact and near-duplicate statements: copy-pasted complaints and auto-generated tickets.

Exact duplicates are equal after normalization (case, punctuation, digits). Near-duplicates are
found with MinHash over character 5-gram shingles and LSH banding, verified by the estimated
Jaccard similarity. Everything is vectorized with numpy (one pass of shingle hashing over all
texts at once): datasketch's per-object MinHash costs ~30 us per statement, which alone would
eat a third of the stage's time budget.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

_PUNCT = re.compile(r"[\W_]+")
_DIGITS = re.compile(r"\d+")


def normalize_for_dedup(text: str) -> str:
    """Lower case, digits collapsed to ``0``, punctuation to spaces: what makes two copies equal."""
    return _PUNCT.sub(" ", _DIGITS.sub("0", text.lower())).strip()


@dataclass
class DuplicateResult:
    """``duplicate_of[i]`` is the index of the first copy of text ``i`` or -1; ``kind[i]`` says how."""

    duplicate_of: np.ndarray
    kind: np.ndarray  # "", "exact" or "near"

    @property
    def n_exact(self) -> int:
        return int((self.kind == "exact").sum())

    @property
    def n_near(self) -> int:
        return int((self.kind == "near").sum())


def _shingle_hashes(texts: Sequence[str], k: int) -> tuple[np.ndarray, np.ndarray]:
    """32-bit hashes of every character k-gram of every text, and the owner index of each hash."""
    encoded = [t.encode("utf-8") for t in texts]
    lengths = np.fromiter((len(b) for b in encoded), dtype=np.int64, count=len(encoded))
    buf = np.frombuffer(b"".join(encoded), dtype=np.uint8).astype(np.uint64)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    n_grams = np.maximum(lengths - k + 1, 0)
    if buf.size < k or n_grams.sum() == 0:
        return np.zeros(0, np.uint64), np.zeros(0, np.int64)
    # Polynomial hash of each window, computed for every byte offset at once.
    m = buf.size - k + 1
    h = np.zeros(m, dtype=np.uint64)
    for j in range(k):
        h = h * np.uint64(1_000_003) + buf[j : j + m]
    owner = np.repeat(np.arange(len(texts)), n_grams)
    offs = np.repeat(starts - np.concatenate([[0], np.cumsum(n_grams)[:-1]]), n_grams)
    idx = np.arange(n_grams.sum()) + offs
    return (h[idx] ^ (h[idx] >> np.uint64(29))) & np.uint64(0xFFFFFFFF), owner


def minhash_signatures(
    texts: Sequence[str], num_perm: int = 64, k: int = 5, seed: int = 1, chunk: int = 4096
) -> np.ndarray:
    """(n, num_perm) uint32 MinHash signatures of character k-gram sets (multiply-shift hashing)."""
    sig = np.full((len(texts), num_perm), np.iinfo(np.uint32).max, dtype=np.uint32)
    rng = np.random.default_rng(seed)
    a = rng.integers(1, 2**63, size=num_perm, dtype=np.uint64) | np.uint64(1)
    b = rng.integers(0, 2**63, size=num_perm, dtype=np.uint64)
    # Chunks of texts, and of permutations within them, keep the (shingles x perms) matrix small:
    # whole, it is 128 bytes per character of input (3 GB at 300k statements).
    for start in range(0, len(texts), chunk):
        hashes, owner = _shingle_hashes(texts[start : start + chunk], k)
        if hashes.size == 0:
            continue
        present = np.unique(owner)
        bounds = np.searchsorted(owner, present)
        for c in range(0, num_perm, 16):
            vals = ((hashes[:, None] * a[None, c : c + 16] + b[None, c : c + 16]) >> np.uint64(32)).astype(np.uint32)
            sig[start + present, c : c + 16] = np.minimum.reduceat(vals, bounds, axis=0)
    return sig


def find_duplicates(
    texts: Sequence[str],
    threshold: float = 0.85,
    min_chars: int = 40,
    num_perm: int = 64,
    bands: int = 16,
    groups: Sequence[object] | None = None,
) -> DuplicateResult:
    """Mark each text that repeats an earlier one, exactly or above ``threshold`` Jaccard similarity.

    Texts shorter than ``min_chars`` (after normalization) are never duplicates: "Great service" from
    forty customers is forty opinions, not a copy-paste. With ``groups`` (e.g. customer ids), only
    texts of the same group can be copies of each other.
    """
    norm = [normalize_for_dedup(t) for t in texts]
    lengths = np.fromiter((len(t) for t in norm), dtype=np.int64, count=len(norm))
    return duplicates_from_keys(
        norm, lengths, lambda rows: minhash_signatures([norm[i] for i in rows], num_perm=num_perm),
        threshold, min_chars, bands, groups,
    )


def dedup_keys(texts: Sequence[str], num_perm: int = 64) -> tuple[list[bytes], np.ndarray, np.ndarray]:
    """What :func:`duplicates_from_keys` needs of each text, computed text by text (so on workers).

    Returns a 16-byte hash of the normalized text (equal texts, equal keys), the normalized length
    and the (n, num_perm) MinHash signature of the normalized text.
    """
    norm = [normalize_for_dedup(t) for t in texts]
    keys = [hashlib.blake2b(t.encode("utf-8"), digest_size=16).digest() for t in norm]
    lengths = np.fromiter((len(t) for t in norm), dtype=np.int64, count=len(norm))
    return keys, lengths, minhash_signatures(norm, num_perm=num_perm)


def duplicates_from_keys(
    keys: Sequence[Hashable],
    lengths: np.ndarray,
    signatures: Callable[[list[int]], np.ndarray],
    threshold: float = 0.85,
    min_chars: int = 40,
    bands: int = 16,
    groups: Sequence[object] | None = None,
) -> DuplicateResult:
    """:func:`find_duplicates` on precomputed per-text keys (the batch-global part of the step).

    ``keys[i]`` identifies the normalized text i (the text itself or a hash of it), ``lengths[i]``
    is its length, and ``signatures(rows)`` returns the MinHash signatures of the texts at ``rows``.
    """
    n = len(keys)
    dup = np.full(n, -1, dtype=np.int64)
    kind = np.full(n, "", dtype=object)
    group_codes = (
        np.zeros(n, dtype=np.int64) if groups is None
        else pd.factorize(pd.Series(list(groups), dtype=object), use_na_sentinel=False)[0]
    )  # fmt: skip
    eligible = np.flatnonzero(np.asarray(lengths) >= min_chars)

    # Exact copies: the first eligible row with the same (group, key) is the original. Integer
    # codes and a group-by instead of a dict of tuples: ~20x less memory at a million statements.
    key_codes = pd.factorize(pd.Series(keys, dtype=object).iloc[eligible], use_na_sentinel=False)[0]
    first = (
        pd.DataFrame({"g": group_codes[eligible], "k": key_codes, "row": eligible})
        .groupby(["g", "k"], sort=False)["row"].transform("first").to_numpy()
    )  # fmt: skip
    copy = first != eligible
    dup[eligible[copy]], kind[eligible[copy]] = first[copy], "exact"
    unique = eligible[~copy].tolist()
    if threshold >= 1.0 or len(unique) < 2:
        return DuplicateResult(dup, kind)

    sig = signatures(unique)
    pairs = _candidate_pairs(sig, bands, group_codes[unique])
    if pairs.size == 0:
        return DuplicateResult(dup, kind)
    later, earlier = pairs[:, 0], pairs[:, 1]
    sim = (sig[later] == sig[earlier]).mean(axis=1)
    keep = sim >= threshold
    # For each later text, its earliest similar text; processed in order so chains end at the first copy.
    best: dict[int, int] = {}
    for a, b in zip(later[keep].tolist(), earlier[keep].tolist(), strict=True):
        if b < best.get(a, a):
            best[a] = b
    for pos in sorted(best):
        i, j = unique[pos], unique[best[pos]]
        dup[i], kind[i] = (dup[j] if dup[j] >= 0 else j), "near"
    return DuplicateResult(dup, kind)


def _candidate_pairs(sig: np.ndarray, bands: int, groups: Sequence[object]) -> np.ndarray:
    """(later, earlier) index pairs that share at least one LSH band (and their group)."""
    n, num_perm = sig.shape
    rows = num_perm // bands
    # One 64-bit key per (text, band): a random linear combination of the band's values + the group.
    rng = np.random.default_rng(7)
    mult = rng.integers(1, 2**63, size=rows, dtype=np.uint64) | np.uint64(1)
    # In row chunks: the uint64 products of the whole matrix are 8x the signatures (1 GB at 1M texts).
    keys = np.empty((n, bands), dtype=np.uint64)
    for s in range(0, n, 65536):
        block = sig[s : s + 65536, : bands * rows].reshape(-1, bands, rows).astype(np.uint64)
        keys[s : s + 65536] = (block * mult).sum(axis=2)
    codes = pd.factorize(pd.Series(groups, dtype="object"), use_na_sentinel=False)[0].astype(np.uint64)
    keys ^= (codes * np.uint64(0x9E3779B97F4A7C15))[:, None]
    found = []
    for b in range(bands):
        order = np.argsort(keys[:, b], kind="stable")
        k = keys[order, b]
        starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
        sizes = np.diff(np.r_[starts, n])
        for s, size in zip(starts[sizes > 1].tolist(), sizes[sizes > 1].tolist(), strict=True):
            members = order[s : s + size]  # stable sort: ascending index
            for x in range(1, size):
                found.append(np.column_stack([np.full(x, members[x]), members[:x]]))
    if not found:
        return np.zeros((0, 2), dtype=np.int64)
    return np.unique(np.vstack(found), axis=0)
