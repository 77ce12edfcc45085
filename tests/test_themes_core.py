"""The shared core of refit and assignment nights, on small hand-made inputs (no model)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from feedback_miner.config import ThemesConfig
from feedback_miner.themes.core import assignments_frame, follow_duplicates, prepare_night
from feedback_miner.themes.space import LanguageCentering, fit_language_means
from feedback_miner.themes.tracking import IdSequence


def _statements() -> tuple[pd.DataFrame, np.ndarray]:
    st = pd.DataFrame(
        {
            "statement_id": ["a", "b", "c", "d", "e"],
            "customer_id": ["c1", "c2", "c3", "c4", "c5"],
            "language": ["en", "en", "it", "it", None],
            "text": ["card late", "card lost", "carta persa", "carta persa", "n/a"],
            "is_non_answer": [False, False, False, False, True],
            "is_duplicate_of": [None, None, None, "c", None],
        }
    )
    X = np.array([[1, 0, 0], [0.9, 0.1, 0], [0, 1, 0], [0, 1, 0], [0, 0, 1]], dtype=np.float32)
    return st, X / np.linalg.norm(X, axis=1, keepdims=True)


def test_language_centering_keeps_given_means_and_fits_otherwise():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4)).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    langs = np.array(["en"] * 30 + ["it"] * 30)
    other_night = fit_language_means(X[::-1] + 0.5, langs)
    given = LanguageCentering(means=other_night).fit(X, langs)
    assert given.means_ is other_night
    fitted = LanguageCentering().fit(X, langs)
    assert list(fitted.means_["language"]) == ["en", "it"]
    assert not np.allclose(given.transform(X, langs), fitted.transform(X, langs))
    off = LanguageCentering(enabled=False).fit(X, langs)
    assert off.means_ is None and off.transform(X, langs) is X


def test_id_sequence_numbers_broad_and_sub_themes_from_the_first_free_number():
    broad, sub = IdSequence(5), IdSequence(2, parent="T0003")
    assert [broad(), broad()] == ["T0005", "T0006"]
    assert [sub(), sub()] == ["T0003.2", "T0003.3"]


def test_prepare_night_flags_and_duplicates_follow_their_first_copy():
    st, X = _statements()
    prev = pd.DataFrame({"statement_id": ["a", "c"], "theme_id": ["T0001", "T0002"], "subtheme_id": [None, "T0002.1"]})
    night = prepare_night(st, X, ThemesConfig(center_languages=False), [], prev)
    assert night.themed.tolist() == [True, True, True, True, False]
    assert night.is_dup.tolist() == [False, False, False, True, False]
    assert night.prev_theme.tolist() == ["T0001", None, "T0002", None, None]
    assert night.means is None and night.langs.tolist()[-1] == "und"

    theme = np.array(["T0001", "T0001", "T0002", None, None], dtype=object)
    sub = np.array([None, None, "T0002.1", None, None], dtype=object)
    follow_duplicates(night, theme, sub, np.flatnonzero(night.is_dup))
    assert (theme[3], sub[3]) == ("T0002", "T0002.1")

    centroids = {"T0001": X[0], "T0002": X[2]}
    frame = assignments_frame(night, theme, sub, centroids)
    assert frame["theme_id"].tolist()[:4] == ["T0001", "T0001", "T0002", "T0002"]
    assert np.isnan(frame["similarity"].iloc[4])  # non-answer: no similarity
    assert frame["similarity"].iloc[0] == np.float32(1.0)


def test_orphan_duplicate_goes_to_the_nearest_theme():
    st, X = _statements()
    night = prepare_night(st, X, ThemesConfig(center_languages=False), [], None)
    theme = np.array(["T0001", "T0001", None, None, None], dtype=object)  # first copy 'c' has no theme
    sub = np.full(5, None, dtype=object)
    follow_duplicates(night, theme, sub, np.flatnonzero(night.is_dup))
    assert theme[3] is None
    frame = assignments_frame(night, theme, sub, {"T0001": X[0], "T0009": X[2]})
    assert frame.at[3, "theme_id"] == "T0009"
