"""What a statement is before it is a theme: a topic, or sentiment/courtesy with no topic, or text
in a language the job does not read.

Kinds (the ``kind`` column of assignments and themes):

- ``topic``: says something about something; the only kind that is clustered into themes.
- ``generic_praise`` / ``generic_complaint``: only evaluation ("great app", "very disappointed",
  "vraiment frustrant", "ok, excelent, bun"): every word is a stop word, an evaluative word, or a
  word for the product itself (app, bank, service...). Polarity: the evaluative words, else the
  statement's sentiment label.
- ``filler``: greetings, thanks, sign-offs, bare ticket subjects ("Urgent", "Question"), text with
  no word at all ("wow", "Cbe", "👍"), lines that only say when or how often ("Second time this
  month.", "Ogni singola volta.", "Following up again."), and short lines repeated word for word by
  several customers (:func:`~feedback_miner.themes.space.filler_mask`) that fit no theme.
- ``other_language``: in a language outside the configured ones, or mostly in a script they do
  not use (``በጣም ነው``).

Each kind is one bucket of its own (theme id = the kind), shown apart from the themes with its
count. The word lists are small, hand-made and multilingual (en, fr, it, ro, nl, de, es): a word
counts in any language, so a statement whose language was misread is still recognised.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd

from feedback_miner.themes import names
from feedback_miner.themes.names import NEGATIONS, stop_words

TOPIC = "topic"
KIND_LABELS = {
    "generic_praise": "General praise",
    "generic_complaint": "General complaints",
    "filler": "Greetings and filler",
    "other_language": "Other languages",
}
KINDS = (TOPIC, *KIND_LABELS)

_POSITIVE = """
good great excellent amazing awesome love loved loves lovely nice best perfect fantastic wonderful brilliant super
cool easy happy satisfied recommend recommended recommending highly helpful fine ok okay okey useful incredible
superb impressive pleasant favourite favorite fabulous glad thumbs brill
like likes liked enjoy enjoys enjoyed enjoying impressed pleased amazed delighted loving
fast quick quickly smooth seamless intuitive friendly reliable convenient handy straightforward simple
rapide fiable intuitif intuitive simple veloce semplice intuitivo intuitiva snel simpel duidelijk overzichtelijk
gebruiksvriendelijk rapid simplu
bien bon bonne bons bonnes genial geniale excellente parfait parfaite satisfait satisfaite recommande conseille
efficace pratique agreable formidable impeccable nickel bravo adore sympa facile meilleur meilleure top topissime
bene buono buona buoni ottimo ottima ottimi eccellente perfetto perfetta fantastico fantastica bellissimo bellissima
bello bella consiglio consigliato consigliata consigliatissima soddisfatto soddisfatta comodo comoda utile stupendo
favoloso meraviglioso affidabile efficiente
bun buna bune buni excelent excelenta excelente perfecta minunat minunata recomand multumit multumita superb util
utila frumos frumoasa
goed goede prima uitstekend uitstekende geweldig geweldige fantastisch handig makkelijk gemakkelijk tevreden aanrader
fijn fijne prettig betrouwbaar aanbevolen mooi mooie
gut gute guter toll tolle klasse perfekt einfach hervorragend ausgezeichnet empfehlenswert empfehlen zufrieden spitze
bueno buen excelentes perfecto recomiendo recomendable encanta gusta mejor maravilloso
"""
_NEGATIVE = """
bad terrible awful horrible worst poor disappointing disappointed disappointment useless rubbish garbage trash crap
hate hated annoying annoyed frustrating frustrated unhappy unacceptable ridiculous pathetic disgusting shame shameful
waste scam joke nightmare sucks sucked dreadful appalling horrendous worse avoid
nul nulle nuls mauvais mauvaise catastrophique catastrophe honte honteux lamentable decu decue decevant decevante
deception pire inadmissible inacceptable scandaleux scandale frustrant frustrante arnaque deplorable minable
pathetique inutile desastreux blague marre bol ras abuse abusez foutage incompetent incompetents
pessimo pessima terribile orribile schifo vergogna vergognoso deluso delusa deludente delusione inaccettabile
scandaloso disastro disastroso peggiore peggio cattivo truffa ridicolo assurdo
slab slaba prost proasta proaste groaznic groaznica oribil oribila dezamagit dezamagita dezamagire nemultumit
nemultumita inutil jalnic rusine penibil teapa mizerie nasol
slecht slechte slechtste waardeloos waardeloze teleurgesteld teleurstellend verschrikkelijk vreselijk belachelijk
schandalig onbetrouwbaar nutteloos triest ontevreden drama bagger
schlecht schlechte schlechter schlechteste katastrophe katastrophal enttauscht enttauschend furchtbar schrecklich
nutzlos unzufrieden miserabel frechheit unverschamt peinlich mies mull
malo mala pesimo pesima fatal decepcionado decepcion desastre peor basura estafa verguenza
"""
# Words for the product, the company or the experience as a whole, and intensifiers: they do not
# make an evaluation a topic ("great app", "servizio pessimo", "vraiment très nul").
_NEUTRAL = """
app apps application applications appli bank banking banque banca banco service services servizio servizi servicio
serviciu serviciul dienst product products produit produits prodotto produs produsul produse company experience
experiences experience experienza ervaring erfahrung experiencia everything thing things stars star review overall
definitely truly totally absolutely extremely really very quite pretty so much far ever always never just simply
use using used user users work works job keep appreciate appreciated lot care solution solutions
vraiment tres trop tellement franchement totalement completement absolument toujours jamais rien tout aucun aucune
davvero molto troppo veramente proprio assolutamente sempre mai niente tutto soluzione soluzioni
foarte mult prea chiar totul nimic deloc aplicatie aplicatia aplicatii solutie solutii
echt heel erg zeer altijd nooit alles niets
wirklich sehr total immer nie nichts
muy todo nada siempre nunca aplicacion
"""
_COURTESY = """
hello hi hey dear thanks thank thx ty regards cheers please help helping bye goodbye greetings morning evening
afternoon sir madam team
bonjour bonsoir salut merci cordialement coucou svp aide aider aidez madame monsieur pouvez pourriez dois faire
ciao salve buongiorno buonasera grazie saluti cordiali distinti prego aiuto
buna ziua salut multumesc multumim va rog sarut mana
hallo hoi dag bedankt dank groeten alvast
danke vielen gruss grusse gruessen
hola gracias saludos
urgent question questions query inquiry request problem issue complaint feedback info information compliment
urgente domanda richiesta problema reclamo segnalazione demande question probleme reclamation
intrebare cerere problema reclamatie
fix sort look check call asap soon possible
corriger rappeler regarder verifier
sistemate risolvete richiamatemi verificare controllare
rezolvati verificati sunati
"""

# When and how often, chasing and follow-ups: a line made of these (and stop words) says nothing
# about what went wrong ("Second time this month.", "Ça dure depuis des semaines.", "Following up
# again."), though it says it repeatedly: without them such lines formed the sample's largest theme.
_DISCOURSE = """
time times again yesterday today tomorrow tonight since month months week weeks day days year years ago still
same story last first second third fourth every single each going case either following
follow chasing reading anyone anybody someone somebody whole yet already lately recently
january february march april may june july august september october november december
monday tuesday wednesday thursday friday saturday sunday
fois encore hier aujourd aujourdhui demain depuis mois semaine semaines jour jours journee an ans annee annees meme
histoire dernier derniere premier premiere deuxieme troisieme chaque pareil produit dure relance relancer lit
quelqu quelquun nouvelles deja
janvier fevrier mars avril mai juin juillet aout septembre octobre novembre decembre
volta volte ancora ieri oggi domani mese mesi settimana settimane giorno giorni anno anni fa stessa stesso storia
scorso scorsa prima primo seconda secondo terza terzo ogni singola singolo successo succede avanti cosi nuovo
scrivo sollecitare sollecito qualcuno legge novita gia
gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre
dati oara ori iar ieri azi astazi maine luna lunii luni saptamana saptamani zi zile ani aceeasi
poveste trecuta trecut prima primul doua treia fiecare intamplat intampla fel intregi asa revin citeste cineva
noutate noutati deja
ianuarie februarie martie aprilie mai iunie iulie august septembrie octombrie noiembrie decembrie
keer weer gisteren vandaag morgen sinds maand maanden week weken dag dagen jaar jaren geleden nog steeds zelfde
mal wieder gestern heute morgen seit monat monate woche wochen tag tage jahr jahre schon noch
vez veces otra ayer hoy desde mes meses semana semanas dia dias ano anos
"""


def _plain(word: str) -> str:
    """Lower case without accents (lexicon and statements meet on this form)."""
    return "".join(c for c in unicodedata.normalize("NFKD", word.lower()) if not unicodedata.combining(c))


def _words(block: str) -> frozenset[str]:
    return frozenset(_plain(w) for w in block.split())


POSITIVE, NEGATIVE, NEUTRAL, COURTESY = _words(_POSITIVE), _words(_NEGATIVE), _words(_NEUTRAL), _words(_COURTESY)
DISCOURSE = _words(_DISCOURSE)
# Every word the lists know: built once, not per word (this runs over every statement of the window).
_KNOWN = POSITIVE | NEGATIVE | NEUTRAL | COURTESY | DISCOURSE
_WORD = re.compile(r"[^\W\d_]+")
# Configured languages written in another script than Latin: the script test is then off.
_NON_LATIN = {"ar", "be", "bg", "el", "fa", "he", "hi", "hy", "ja", "ka", "ko", "mk", "ru", "sr", "th", "uk", "zh"}
# Contact and account details the prepare stage redacted (not <PERSON>: reviewers name the company).
_PLACEHOLDER = re.compile(r"<(?:PHONE|EMAIL|CARD|IBAN|URL|IP|NATIONAL_ID|ACCOUNT|ADDRESS)>")
# What is left of English contractions once the apostrophe splits words ("don’t" -> "don", "t"):
# function words, and most of them negations.
_CLITIC_NEGATIONS = frozenset(
    ["don", "didn", "doesn", "isn", "wasn", "won", "couldn", "wouldn", "shouldn", "aren", "haven", "hasn", "weren"]
)
_CLITICS = _CLITIC_NEGATIONS | {"ve", "ll", "re"}
_NEGATION_WORDS = frozenset(_plain(w) for w in NEGATIONS) | _CLITIC_NEGATIONS | {"ne", "nie"}
# "top" is praise in French ("c'est top"), "top up" a thing to do with money: one unknown word then.
_TOP_UP = re.compile(r"\btop[\s-]+up", re.IGNORECASE)
_REFERENCE_MAX_WORDS = 3  # "My card number is <CARD>." is a reference; "Please reply to <EMAIL> ..." may say more
_GENERIC_MAX_WORDS = 12  # longer statements say more than an evaluation, even in evaluative words


@lru_cache(maxsize=32)
def _stops(lang: str) -> frozenset[str]:
    """Stop words of ``lang`` and English (customers mix English in), one set per language."""
    return stop_words(lang) | stop_words("en")


def _latin_share(text: str) -> float:
    """Share of the letters of ``text`` in the Latin script (1.0 when it has no letters)."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 1.0
    return sum(ord(c) < 0x250 or 0x1E00 <= ord(c) <= 0x1EFF for c in letters) / len(letters)


def _strip_references(text: str) -> tuple[str, int]:
    """``text`` without contact placeholders (``<PHONE>``) and codes (a token of upper-case letters and
    digits, ``TX-CHXMGG6JZ6``), and how many there were."""
    n = len(_PLACEHOLDER.findall(text))
    text = _PLACEHOLDER.sub(" ", text)
    kept = []
    for token in text.split():
        core = token.strip(".,;:!?()[]'\"")
        # upper case only: "TX-CHXMGG6JZ6", "E-1234" are codes; "2mois", "10min49", "covid-19" are words
        mixed = any(c.isdigit() for c in core) and any(c.isalpha() for c in core)
        if len(core) >= 5 and mixed and core.upper() == core:
            n += 1
        else:
            kept.append(token)
    return " ".join(kept), n


def word_kind(text: str, lang: str) -> tuple[str, int]:
    """(kind, polarity) of one statement by its words alone (language and script not looked at).

    Polarity: positive minus negative evaluative words, the other way round after a negation ("don’t
    recommend", "not good"), and then 0 so that a sentiment label decides (0 for a topic or filler).
    A contact or reference line (a placeholder or code and at most ``_REFERENCE_MAX_WORDS`` other
    content words: "You can reach me on <PHONE>.", "Transaction reference: TX-CHXMGG6JZ6.") is
    filler: it says who or which, not what. One capitalised word after the first, with an evaluation
    or courtesy and nothing else unknown, is a name (of the company or its product: "Love Monzo",
    "I’ve really enjoyed using Monzo.", "Thanks Monzo"): it does not make a topic, as "app" does not
    ("Transfers are fast" stays a topic: its capital is the sentence's). A negated word for the
    product or the outcome and nothing else ("aucune solution", "they don’t care", "never works") is
    a complaint; so is a question made of negative words only ("c'est une blague ??").
    """
    text, n_refs = _strip_references(_TOP_UP.sub("topup", text))
    words = [w for w in _WORD.findall(text) if len(w) > 1 or w.isupper()]
    if not words:  # no word at all, or only a contact detail or a code
        return "filler", 0
    stop = _stops(lang) | _CLITICS
    plain = [_plain(w) for w in words]
    content = [w for w, p in zip(words, plain, strict=True) if w.lower() not in stop and p not in stop]
    content_plain = [_plain(w) for w in content]
    pos = sum(p in POSITIVE for p in content_plain)
    neg = sum(p in NEGATIVE for p in content_plain)
    rest = [p for p in content_plain if p not in _KNOWN]
    if n_refs and len(rest) <= _REFERENCE_MAX_WORDS and not pos + neg:
        return "filler", 0
    # (courtesy only outside a question: "Is it possible to get a Visa here?" asks about a thing)
    if len(rest) == 1 and (pos or neg or ("?" not in text and any(p in COURTESY for p in plain))):
        at = [i for i, p in enumerate(plain) if p == rest[0]]
        if all(i > 0 and words[i][:1].isupper() for i in at):  # a name, not the sentence's capital
            rest = []
    if rest:
        # One short unknown word and nothing else ("Cbe", "wow!!"): nothing to theme either.
        if len(words) == 1 and len(words[0]) <= 3 and not pos + neg:
            return "filler", 0
        return TOPIC, 0
    negated = any(p in _NEGATION_WORDS for p in plain)
    if pos or neg:
        # A question asks about something ("is it good?") unless it only vents ("is this a joke?");
        # a long statement says more than "great".
        if ("?" in text and (pos or not neg)) or len(words) > _GENERIC_MAX_WORDS:
            return TOPIC, 0
        polarity = neg - pos if negated else pos - neg
        return ("generic_praise" if polarity >= 0 else "generic_complaint"), 0 if negated else polarity
    if negated and "?" not in text and any(p in NEUTRAL for p in content_plain):
        return "generic_complaint", -1
    # Only stop words: filler when it greets or thanks, or only says when ("again last month") and
    # asks nothing; else a topic in function words ("how can I top up?", "what happened to my top-up?").
    if any(p in COURTESY for p in plain) or ("?" not in text and any(p in DISCOURSE for p in plain)):
        return "filler", 0
    return TOPIC, 0


def kind_rules(languages: Sequence[str] | None = None, min_latin_share: float = 0.5) -> str:
    """Digest of everything :func:`statement_kinds` reads besides a statement's text, language and
    sentiment label: this module and the stop-word module (their word lists and rules), spaCy's
    version (its stop-word files), the configured languages and the script threshold. Kinds cached
    under one digest are never read under another, so a change of any of these recomputes them."""
    h = hashlib.sha1()
    for module in (__file__, names.__file__):
        h.update(Path(module).read_bytes())
    h.update(f"|{version('spacy')}|{sorted(languages) if languages is not None else None}|{min_latin_share}".encode())
    return h.hexdigest()[:16]


def kind_keys(statements: pd.DataFrame) -> pd.Series:
    """One hash per statement of what its kind depends on besides :func:`kind_rules`: language,
    sentiment label and text (the key of the store's kind cache)."""
    n = len(statements)
    parts = [statements[c].astype(object).where(statements[c].notna(), "").astype(str) if c in statements
             else pd.Series("", index=statements.index) for c in ("language", "sentiment_label", "text")]
    joined = (parts[0] + "\x1f" + parts[1] + "\x1f" + parts[2]).tolist() if n else []
    return pd.Series([hashlib.sha1(t.encode("utf-8")).hexdigest() for t in joined], index=statements.index,
                     dtype=object)


def statement_kinds(
    statements: pd.DataFrame, languages: Sequence[str] | None = None, min_latin_share: float = 0.5
) -> np.ndarray:
    """The kind of each statement (see the module docstring) as an object array.

    ``languages``: the configured languages (``prepare.languages``); a statement detected in
    another one (not ``und``) is ``other_language``, and so is one whose letters are mostly outside
    the Latin script when every configured language is written in it. None: any language is read.
    Ties of evaluative words, or evaluations with none counted or negated, take the
    ``sentiment_label`` column when there is one. A ``kind`` column, where set, is taken as it is
    (kinds an earlier night computed under the same :func:`kind_rules`: the window's statements are
    not re-read).
    """
    n = len(statements)
    texts = statements["text"].astype(str).to_numpy() if n else np.zeros(0, dtype=object)
    langs = statements.get("language", pd.Series("und", index=statements.index)).fillna("und").astype(str).to_numpy()
    labels = statements.get("sentiment_label", pd.Series(None, index=statements.index)).astype(object).to_numpy()
    allowed = None if languages is None else {str(x) for x in languages} | {"und"}
    latin = allowed is not None and not (allowed & _NON_LATIN)
    given = statements["kind"].to_numpy(dtype=object) if "kind" in statements and n else np.full(n, None, object)
    out = np.empty(n, dtype=object)
    for i in range(n):
        if isinstance(given[i], str):
            out[i] = given[i]
            continue
        if allowed is not None and (langs[i] not in allowed or (latin and _latin_share(texts[i]) < min_latin_share)):
            out[i] = "other_language"
            continue
        kind, polarity = word_kind(texts[i], langs[i])
        if kind.startswith("generic") and polarity == 0 and isinstance(labels[i], str):
            kind = "generic_complaint" if labels[i] == "negative" else "generic_praise"
        out[i] = kind
    return out
