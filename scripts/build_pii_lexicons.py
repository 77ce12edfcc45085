"""Build the word lists the PII name recognizer reads (feedback_miner/prepare/pii/resources/).

- ``first_names.txt``: first names of the it_IT, fr_FR, ro_RO, en_US and en_GB person providers of
  Faker (MIT licence, https://github.com/joke2k/faker), lower-cased, one a line.
- ``ambiguous_first_names.txt``: those of them that are more often ordinary words ("Frank", "Bill",
  "May"): a name only before a capitalised surname.
- ``common_words.txt.gz``: words that are not names when capitalised, lower-cased: English words
  seen lower-case at least as often as capitalised (``en_lexeme_prob``, probability >= e^-16) and
  the Italian, French and Romanian lemmas of the lookup lemmatizers, all from spacy-lookups-data
  (MIT licence). First names are removed from it (a first name wins).

    pip install faker && python scripts/build_pii_lexicons.py
"""

from __future__ import annotations

import gzip
import importlib
import json
from pathlib import Path

import spacy_lookups_data

OUT = Path(__file__).resolve().parents[1] / "feedback_miner" / "prepare" / "pii" / "resources"
LOCALES = ["it_IT", "fr_FR", "ro_RO", "en_US", "en_GB"]
# Names that are far more often ordinary words in these languages' feedback ("Bill" a bill, "May" a month).
AMBIGUOUS = {"bill", "will", "may", "june", "mark", "hope", "grace", "joy", "rose", "amber", "summer", "dawn",
             "faith", "victoria", "jack", "frank", "sterling", "ray", "gay", "pat", "august", "king", "major",
             "carte", "nu", "alba", "viola", "valentina", "lu",
             "mercedes", "dacia", "fiat", "vodafone", "angelo", "angela", "domenica", "sabato", "marina",
             "olivier", "rosa", "pascal", "paris", "patience", "prudence", "florence",
             "virginia", "sydney", "bianca", "stella", "luna", "aurora", "gloria", "iris",
             "april", "july", "january", "chase", "chime", "tim", "ivy", "holly", "penny", "sunny", "rich", "chance"}


_CEDILLA = str.maketrans("șț", "şţ")
_COMMA_BELOW = str.maketrans("şţ", "șț")


def all_first_names() -> set[str]:
    names: set[str] = set()
    for loc in LOCALES:
        provider = importlib.import_module(f"faker.providers.person.{loc}").Provider
        names.update(n.lower() for n in provider.first_names if n.isalpha() and len(n) > 2)
    return names


def common_words(names: set[str]) -> set[str]:
    data = Path(spacy_lookups_data.__file__).parent / "data"
    with gzip.open(data / "en_lexeme_prob.json.gz") as f:
        prob = json.load(f)
    words = {w for w, p in prob.items() if w.isalpha() and w.islower() and p > -16
             and p >= prob.get(w.capitalize(), -99.0)}
    for lang in ("it", "fr", "ro"):
        with gzip.open(data / f"{lang}_lemma_lookup.json.gz") as f:
            lookup = json.load(f)
        for lemma in lookup.values():
            for w in lemma if isinstance(lemma, list) else [lemma]:
                if isinstance(w, str) and w.isalpha():
                    words.add(w.lower())
    # Romanian is written with both comma-below (ș ț) and cedilla (ş ţ) letters: keep both spellings.
    words |= {w.translate(_CEDILLA) for w in words} | {w.translate(_COMMA_BELOW) for w in words}
    return (words - names) | AMBIGUOUS


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    everyone = all_first_names()
    names = everyone - AMBIGUOUS
    (OUT / "first_names.txt").write_text("\n".join(sorted(names)) + "\n", encoding="utf-8")
    ambiguous = everyone & AMBIGUOUS
    (OUT / "ambiguous_first_names.txt").write_text("\n".join(sorted(ambiguous)) + "\n", encoding="utf-8")
    words = common_words(names)
    # mtime 0 and a sorted list: a rebuild is byte-identical.
    with gzip.GzipFile(OUT / "common_words.txt.gz", "wb", compresslevel=9, mtime=0) as f:
        f.write(("\n".join(sorted(words)) + "\n").encode("utf-8"))
    print(f"{len(names)} first names, {len(words)} common words -> {OUT}")


if __name__ == "__main__":
    main()
