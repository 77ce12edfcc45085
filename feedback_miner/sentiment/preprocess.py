"""Text normalisation and label parsing shared by training, scoring and the benchmark.

Training data for the shipped head are tweets; customer feedback is not. Normalising away what
only tweets have (mentions, ``RT``, bare links, ``#`` signs, escaped characters) keeps the head
from learning Twitter artefacts, and is harmless on survey and ticket text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence

import numpy as np

#: The head's classes, in the order of its probability columns.
CLASSES: tuple[str, ...] = ("negative", "neutral", "positive")

_UNICODE_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_RETWEET = re.compile(r"^\s*RT\s+@\w+:?\s*")
_MENTION = re.compile(r"(?<!\w)@\w+")
_URL = re.compile(r"\bhttps?://\S+|\bwww\.\S+|(?<!\w)https?(?!\w)")
_HASH = re.compile(r"#(\w)")
_SPACES = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """Clean one text for the sentiment head (idempotent; keeps case, punctuation and emoji)."""
    t = _UNICODE_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), str(text))
    t = html.unescape(t).replace('\\"', '"')
    t = _RETWEET.sub("", t)
    t = _URL.sub(" ", t)
    t = _MENTION.sub(" ", t)
    t = _HASH.sub(r"\1", t)
    t = _SPACES.sub(" ", t).strip(" :")
    return t


def normalize_texts(texts: Iterable[str]) -> list[str]:
    return [normalize_text(t) for t in texts]


_LABEL_ALIASES: dict[str, str] = {
    "negative": "negative", "neg": "negative", "-1": "negative",
    "neutral": "neutral", "neu": "neutral", "0": "neutral",
    "positive": "positive", "pos": "positive", "1": "positive",
}  # fmt: skip


def parse_labels(values: Sequence[object]) -> np.ndarray:
    """Map user labels to ``negative/neutral/positive``.

    Accepts the names (any case, ``neg``/``neu``/``pos``), ``-1/0/1``, or ``0/1/2`` (TweetEval order).
    Integers are ambiguous between the last two schemes, so the scheme is decided for the whole
    column: ``0/1/2`` when a 2 appears and no -1 does. Raises ``ValueError`` naming a bad value.
    """
    raw = [str(v).strip().lower() for v in values]
    raw = [r[:-2] if r.endswith(".0") else r for r in raw]  # 2.0 read as float by pandas
    distinct = set(raw)
    zero_based = "2" in distinct and "-1" not in distinct
    mapping = {"0": "negative", "1": "neutral", "2": "positive"} if zero_based else {}
    out = []
    for r in raw:
        label = mapping.get(r) or _LABEL_ALIASES.get(r)
        if label is None:
            raise ValueError(f"unknown sentiment label {r!r}: use negative/neutral/positive, -1/0/1 or 0/1/2")
        out.append(label)
    return np.asarray(out, dtype=object)
