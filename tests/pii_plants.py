"""Generated personal data planted in en/it/fr/ro sentences, for the PII property tests.

``plant(kind, lang, seed)`` returns the sentence and the needles that must not survive redaction.
Valid national ids come from Faker's providers (their own check-digit code, not ours); names,
streets and cities from Faker's locale data. Used by the hypothesis unit properties
(tests/test_pii_recognizers.py, seeds drawn by hypothesis) and by the end-to-end job
(tests/test_pii_job.py, fixed seeds).
"""

from __future__ import annotations

import random
import re
import string
from dataclasses import dataclass
from functools import cache

from faker import Faker

from feedback_miner.prepare.pii.names import ambiguous_first_names

LANGS = ("en", "it", "fr", "ro")
LOCALES = {"en": "en_GB", "it": "it_IT", "fr": "fr_FR", "ro": "ro_RO"}


@dataclass(frozen=True)
class Plant:
    kind: str
    lang: str
    text: str
    needles: tuple[str, ...]  # each must be absent from every output (case-insensitive)


@cache
def _faker(locale: str) -> Faker:
    return Faker(locale)


def _fake(lang: str, seed: int) -> Faker:
    f = _faker(LOCALES[lang])
    f.seed_instance(seed)
    return f


def _luhn_complete(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return body + str((10 - total % 10) % 10)


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def value(kind: str, lang: str, seed: int) -> tuple[str, tuple[str, ...]]:
    """A planted value of ``kind`` and its needles."""
    rng = random.Random(f"{kind}-{lang}-{seed}")
    f = _fake(lang, seed)
    if kind == "CNP":
        v = _fake("ro", seed).ssn()
        return v, (v,)
    if kind == "CODICE_FISCALE":
        v = _fake("it", seed).ssn()
        return (v if rng.random() < 0.7 else v.lower()), (v,)
    if kind == "NIR":
        v = _fake("fr", seed).ssn()
        grouped = f"{v[0]} {v[1:3]} {v[3:5]} {v[5:7]} {v[7:10]} {v[10:13]} {v[13:]}"
        return (grouped if rng.random() < 0.5 else v), (v,)
    if kind == "ACCOUNT":
        v = rng.choice(["", "", "AC-", "CL"]) + _digits(rng, rng.randint(6, 12))
        return v, (v,)
    if kind == "CARD_DOTS":
        number = _luhn_complete(rng.choice("45") + _digits(rng, 14))
        sep = rng.choice([".", ".", "-", " "])
        return sep.join(number[i : i + 4] for i in range(0, 16, 4)), (number,)
    if kind == "PHONE_FR":
        number = "0" + rng.choice("1234679") + _digits(rng, 8)
        sep = rng.choice([".", "-", " "])
        return sep.join(number[i : i + 2] for i in range(0, 10, 2)), (number,)
    if kind == "EMAIL_OBFUSCATED":
        user = f"{f.first_name()}.{f.last_name()}".lower().replace(" ", "")
        user = re.sub(r"[^a-z.]", "", user) or "mario.rossi"
        domain = rng.choice(["example", "posta", "mail", "courriel"])
        tld = rng.choice(["it", "fr", "ro", "com"])
        at, dot = rng.choice([(" [at] ", " [dot] "), (" (at) ", "."), (" at ", " dot "), (" {at} ", " (dot) ")])
        return f"{user}{at}{domain}{dot}{tld}", (f"{user}", f"{user}@{domain}.{tld}")
    if kind == "URL_TOKEN":
        token = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(rng.randint(16, 32)))
        host = rng.choice(["app.example.com", "portal.acme.it", "my.banca.ro", "espace.client.fr"])
        path = rng.choice(["reset", "login/confirm", "verify", "account/activate"])
        return f"{host}/{path}?token={token}", (token,)
    if kind == "ADDRESS":
        return _address(lang, f, rng)
    if kind == "NAME":
        first, last = f.first_name(), f.last_name()
        while first.lower() in ambiguous_first_names():  # "Grace", "Frank": names only with a clue (docs/pii.md)
            first = f.first_name()
        return f"{first} {last}", (f"{first} {last}", last) if len(last) >= 5 else (f"{first} {last}",)
    raise ValueError(kind)


def _address(lang: str, f: Faker, rng: random.Random) -> tuple[str, tuple[str, ...]]:
    last, num = f.last_name(), str(rng.randint(1, 250)) + rng.choice(["", "", "", "A", "B"])
    city = f.city()
    if lang == "it":
        street = f"{rng.choice(['Via', 'Viale', 'Piazza', 'Corso', 'Strada', 'Vicolo', 'Largo'])} {last}"
        postcode = f"{rng.randint(10, 98)}{rng.randint(0, 999):03d}"
        addr, place = f"{street} {num}, {postcode} {city}", f"{postcode} {city}"
        return addr, (f"{street} {num}", place)
    if lang == "fr":
        street = f"{rng.choice(['rue', 'avenue', 'boulevard', 'place', 'chemin', 'allée'])} " \
                 f"{rng.choice(['de la ', 'du ', 'des ', ''])}{last}"
        postcode = f"{rng.randint(10, 95)}{rng.randint(0, 999):03d}"
        return f"{num}, {street}, {postcode} {city}", (f"{num}, {street}", f"{postcode} {city}")
    if lang == "ro":
        street = f"{rng.choice(['Strada', 'Str.', 'Bulevardul', 'Calea', 'Aleea', 'Șoseaua'])} {last}"
        postcode = f"{rng.randint(10, 99)}{rng.randint(0, 9999):04d}"
        nr = rng.choice(["nr. ", "Nr. ", ""]) + num
        return f"{street} {nr}, {city} {postcode}", (f"{street} {nr}", f"{city} {postcode}")
    street = f"{num} {last} {rng.choice(['Street', 'Road', 'Avenue', 'Lane', 'Drive'])}"
    postcode = f.postcode()
    return f"{street}, {city} {postcode}", (street, postcode)


# Sentences per kind and language; {v} is the value. Names appear without any lead-in clue, after a
# title, and in lower case after an introduction.
TEMPLATES: dict[str, dict[str, list[str]]] = {
    "CNP": {"en": ["My CNP is {v} and the app rejects it."], "it": ["Il mio CNP {v} non viene accettato."],
            "fr": ["Mon CNP {v} est refusé par l'application."], "ro": ["CNP-ul meu {v} nu este acceptat.",
                                                                       "Am introdus {v} și nu merge."]},
    "CODICE_FISCALE": {"en": ["My tax code {v} was rejected."], "it": ["Il codice fiscale {v} risulta errato.",
                                                                    "Ho inserito {v} ma non va."],
                       "fr": ["Mon code fiscal italien {v} est refusé."], "ro": ["Codul fiscal {v} e respins."]},
    "NIR": {"en": ["My social security number {v} is wrong on the form."],
            "it": ["Il numero {v} non è corretto."],
            "fr": ["Mon numéro de sécurité sociale est le {v}, merci de corriger.", "NIR {v} refusé."],
            "ro": ["Numărul {v} nu este corect."]},
    "ACCOUNT": {"en": ["My account number is {v} and nobody helps.", "Customer ID: {v}, still waiting."],
                "it": ["Il mio numero cliente è {v}, aspetto ancora.", "codice cliente {v} bloccato"],
                "fr": ["Mon numéro de client : {v}, toujours rien.", "N° client {v}, merci de me rappeler."],
                "ro": ["Numărul de client este {v} și nu primesc răspuns.", "cod client {v}, vă rog ajutați."]},
    "CARD_DOTS": {"en": ["Card {v} was charged twice."], "it": ["La carta {v} è stata addebitata due volte."],
                  "fr": ["Ma carte {v} a été débitée deux fois."], "ro": ["Cardul {v} a fost debitat de două ori."]},
    "PHONE_FR": {"en": ["Call me at {v} please."], "it": ["Chiamatemi al {v} per favore."],
                 "fr": ["Rappelez-moi au {v} svp.", "Mon portable : {v}."], "ro": ["Sunați-mă la {v}."]},
    "EMAIL_OBFUSCATED": {"en": ["Write to {v} for the refund."], "it": ["Scrivetemi a {v} per il rimborso."],
                         "fr": ["Écrivez-moi à {v} pour le remboursement."], "ro": ["Scrieți-mi la {v}."]},
    "URL_TOKEN": {"en": ["The reset link {v} does not work."], "it": ["Il link {v} non funziona."],
                  "fr": ["Le lien {v} ne marche pas."], "ro": ["Linkul {v} nu funcționează."]},
    "ADDRESS": {"en": ["The parcel never reached {v} and support ignores me.", "Deliver to {v}."],
                "it": ["Il pacco non è mai arrivato in {v} e nessuno risponde.", "Abito in {v}."],
                "fr": ["Le colis n'est jamais arrivé au {v}, aucune réponse.", "J'habite {v}."],
                "ro": ["Coletul nu a ajuns la {v} și nimeni nu răspunde.", "Locuiesc pe {v}."]},
    "NAME": {"en": ["{v} from support was rude to me.", "Mrs {v} never called back.",
                    "my name is {lv} and the app is broken"],
             "it": ["Il signor {v} mi ha risposto male.", "{v} dell'assistenza è stato gentile.",
                    "mi chiamo {lv} e l'app non funziona"],
             "fr": ["Mme {v} ne m'a jamais rappelé.", "{v} du service client a été très aimable.",
                    "je m'appelle {lv} et l'appli plante"],
             "ro": ["Domnul {v} nu mi-a răspuns.", "{v} de la suport a fost nepoliticos.",
                    "mă numesc {lv} și aplicația nu merge"]},
}
KINDS = tuple(TEMPLATES)


def plant(kind: str, lang: str, seed: int) -> Plant:
    """One sentence of ``lang`` holding a generated ``kind`` value."""
    v, needles = value(kind, lang, seed)
    templates = TEMPLATES[kind][lang]
    template = templates[seed % len(templates)]
    return Plant(kind, lang, template.format(v=v, lv=v.lower()), needles)


def leaked(plant_: Plant, text: str) -> list[str]:
    """The needles of ``plant_`` found in ``text`` (case-insensitive; digit ids also without separators)."""
    low = text.lower()
    compact = re.sub(r"[^0-9a-z]", "", low)
    found = []
    for n in plant_.needles:
        n_low = n.lower()
        n_compact = re.sub(r"[^0-9a-z]", "", n_low)
        if n_low in low or (len(n_compact) >= 9 and any(c.isdigit() for c in n_compact) and n_compact in compact):
            found.append(n)
    return found
