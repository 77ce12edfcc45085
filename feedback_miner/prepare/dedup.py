"""Exact and near-duplicate statements: copy-pasted complaints and auto-generated tickets.

Exact duplicates are equal after normalization (case, punctuation, digits). Near-duplicates are
found with MinHash over character 5-gram shingles and LSH banding, verified by the estimated
Jaccard similarity. Everything is vectorized with numpy (one pass of shingle hashing over all
texts at once): datasketch's per-object MinHash costs ~30 us per statement, which alone would
eat a third of the stage's time budget.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

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


def minhash_signatures(texts: Sequence[str], num_perm: int = 64, k: int = 5, seed: int = 1) -> np.ndarray:
    """(n, num_perm) uint32 MinHash signatures of character k-gram sets (multiply-shift hashing)."""
    hashes, owner = _shingle_hashes(texts, k)
    sig = np.full((len(texts), num_perm), np.iinfo(np.uint32).max, dtype=np.uint32)
    if hashes.size == 0:
        return sig
    rng = np.random.default_rng(seed)
    a = rng.integers(1, 2**63, size=num_perm, dtype=np.uint64) | np.uint64(1)
    b = rng.integers(0, 2**63, size=num_perm, dtype=np.uint64)
    present = np.unique(owner)
    bounds = np.searchsorted(owner, present)
    # Chunk over permutations to keep the (shingles x perms) matrix small.
    for c in range(0, num_perm, 16):
        vals = ((hashes[:, None] * a[None, c : c + 16] + b[None, c : c + 16]) >> np.uint64(32)).astype(np.uint32)
        sig[present, c : c + 16] = np.minimum.reduceat(vals, bounds, axis=0)
    return sig


def find_duplicates(
    texts: Sequence[str],
    threshold: float = 0.85,
    min_chars: int = 40,
    num_perm: int = 64,
    bands: int = 16,
) -> DuplicateResult:
    """Mark each text that repeats an earlier one, exactly or above ``threshold`` Jaccard similarity.

    Texts shorter than ``min_chars`` (after normalization) are never duplicates: "Great service" from
    forty customers is forty opinions, not a copy-paste.
    """
    n = len(texts)
    dup = np.full(n, -1, dtype=np.int64)
    kind = np.full(n, "", dtype=object)
    norm = [normalize_for_dedup(t) for t in texts]
    eligible = [i for i in range(n) if len(norm[i]) >= min_chars]

    first: dict[str, int] = {}
    unique = []
    for i in eligible:
        j = first.setdefault(norm[i], i)
        if j != i:
            dup[i], kind[i] = j, "exact"
        else:
            unique.append(i)
    if threshold >= 1.0 or len(unique) < 2:
        return DuplicateResult(dup, kind)

    sig = minhash_signatures([norm[i] for i in unique], num_perm=num_perm)
    rows = num_perm // bands
    buckets: dict[tuple[int, bytes], list[int]] = {}
    for pos in range(len(unique)):
        candidates: set[int] = set()
        for band in range(bands):
            key = (band, sig[pos, band * rows : (band + 1) * rows].tobytes())
            members = buckets.setdefault(key, [])
            candidates.update(members)
            members.append(pos)
        if not candidates:
            continue
        cand = np.fromiter(sorted(candidates), dtype=np.int64)
        sim = (sig[cand] == sig[pos]).mean(axis=1)
        hits = cand[sim >= threshold]
        if hits.size:
            i, j = unique[pos], unique[int(hits[0])]
            # Point at the first copy of the group, not at an intermediate copy.
            dup[i], kind[i] = (dup[j] if dup[j] >= 0 else j), "near"
    return DuplicateResult(dup, kind)
