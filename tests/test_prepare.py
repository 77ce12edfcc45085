"""Text preparation on realistic multilingual tickets and survey answers."""

from __future__ import annotations

import pandas as pd
import pytest

from feedback_miner.config import PrepareConfig
from feedback_miner.prepare import STATEMENT_COLUMNS, prepare_statements
from feedback_miner.prepare.clean import clean_body, find_boilerplate, is_non_answer
from feedback_miner.prepare.dedup import find_duplicates
from feedback_miner.prepare.language import LanguageDetector
from feedback_miner.prepare.pii import PatternRedactor, iban_ok, luhn_ok
from feedback_miner.prepare.segment import Segmenter, split_contrast

IT_FORWARDED = """Buongiorno,
vi inoltro di nuovo la mia segnalazione: la fattura di marzo è stata addebitata due volte sulla carta.
Potete richiamarmi al 333 456 7890? Vorrei il rimborso entro fine mese.

Cordiali saluti
Giulia Bianchi

Inviato da iPhone

Il giorno lun 4 mar 2024 alle ore 10:12 Assistenza Clienti <assistenza@esempio.it> ha scritto:
> Gentile cliente, abbiamo ricevuto la sua richiesta n. 48213.
> Un operatore la contatterà entro 48 ore.
>
> ---------- Messaggio originale ----------
> Da: giulia.bianchi@gmail.com
> Il rimborso non è mai arrivato, il vostro servizio è pessimo."""

FR_HTML = """<html><head><style>p {margin:0}</style></head><body>
<p>Bonjour,</p>
<p>Depuis la mise &agrave; jour, l&#39;application plante &agrave; chaque connexion.
Voir la capture : <a href="https://imgur.com/a/xYz12">https://imgur.com/a/xYz12</a></p>
<p>Merci de votre aide.</p>
<p>Cordialement,<br>Sophie Martin<br>Responsable comptabilit&eacute; &ndash; Boulangerie Martin SARL<br>
T&eacute;l. : 01 42 68 53 00</p>
<p>Ce message et toutes les pi&egrave;ces jointes sont confidentiels et r&eacute;serv&eacute;s &agrave;
l&#39;usage exclusif de ses destinataires.</p>
</body></html>"""

RO_SURVEY = (
    "Aplicația e ok, dar la plată mi s-au retras banii de două ori din contul RO49 AAAA 1B31 0075 9384 0000. "
    "Vă rog să mă sunați la 0721 234 567 sau +40 744 123 456."
)


def _docs(rows: list[dict]) -> pd.DataFrame:
    base = {
        "source_id": "x",
        "customer_id": "c1",
        "created_at": pd.Timestamp("2024-03-05", tz="UTC"),
        "subject": None,
        "score": None,
        "score_scale": None,
        "attributes": "{}",
        "content_hash": "h",
    }
    frame = pd.DataFrame([{**base, **r} for r in rows])
    frame["source"] = frame["doc_id"].str.split(":").str[0]
    return frame


@pytest.fixture(scope="module")
def prepared():
    docs = _docs(
        [
            {"doc_id": "ticket:1", "subject": "R: I: Doppio addebito fattura marzo", "text": IT_FORWARDED},
            {"doc_id": "ticket:2", "subject": "Application plante", "text": FR_HTML, "customer_id": "c2"},
            {"doc_id": "survey:3", "text": RO_SURVEY, "customer_id": "c3"},
            {"doc_id": "survey:4", "text": "N/A", "customer_id": "c4"},
            {"doc_id": "survey:5", "text": "Niente.", "customer_id": "c5"},
            {"doc_id": "survey:6", "text": "The app is great but billing is a nightmare.", "customer_id": "c6"},
            {"doc_id": "survey:7", "text": "ok", "customer_id": "c7"},
        ]
    )
    return docs, prepare_statements(docs, PrepareConfig(ner_names=False))


def test_italian_forward_drops_quoted_history_and_signature(prepared):
    _, res = prepared
    text = res.documents.set_index("doc_id").loc["ticket:1", "text"]
    assert "addebitata due volte" in text
    for gone in ("ha scritto", "Gentile cliente", "48213", "pessimo", "Giulia", "iPhone", "assistenza@"):
        assert gone not in text
    assert "<PHONE>" in text and "333 456" not in text
    subj = res.statements.query("doc_id == 'ticket:1' and is_subject")
    assert subj["text"].tolist() == ["Doppio addebito fattura marzo"]
    assert subj["position"].tolist() == [0] and subj["statement_id"].tolist() == ["ticket:1#0"]
    assert res.documents.set_index("doc_id").loc["ticket:1", "language"] == "it"


def test_french_html_signature_footer_and_url(prepared):
    _, res = prepared
    text = res.documents.set_index("doc_id").loc["ticket:2", "text"]
    assert "l'application plante à chaque connexion" in text
    assert "<URL>" in text and "imgur" not in text
    for gone in ("<p>", "&agrave;", "Sophie", "Boulangerie", "01 42", "confidentiels", "margin"):
        assert gone not in text
    assert res.documents.set_index("doc_id").loc["ticket:2", "language"] == "fr"


def test_romanian_phone_and_iban_redacted(prepared):
    _, res = prepared
    text = res.documents.set_index("doc_id").loc["survey:3", "text"]
    assert "<IBAN>" in text and "RO49" not in text and "9384" not in text
    assert text.count("<PHONE>") == 2 and "0721" not in text and "744" not in text
    assert res.counts["redactions"]["IBAN"] == 1
    assert res.counts["redactions"]["PHONE"] >= 3  # two here, one in the Italian ticket
    assert res.documents.set_index("doc_id").loc["survey:3", "language"] == "ro"
    # "dar" is a contrast: the first statement ends before it.
    stmts = res.statements.query("doc_id == 'survey:3'")["text"].tolist()
    assert stmts[0] == "Aplicația e ok" and stmts[1].startswith("dar la plată")


def test_no_raw_text_survives(prepared):
    docs, res = prepared
    blob = " ".join(res.statements["text"]) + " ".join(res.documents["text"])
    for secret in ("RO49", "0721 234 567", "333 456 7890", "assistenza@esempio.it", "imgur.com", "01 42 68 53 00"):
        assert secret in " ".join(docs["text"])
        assert secret not in blob


def test_non_answers_flagged_and_kept(prepared):
    _, res = prepared
    d = res.documents.set_index("doc_id")
    assert d.loc["survey:4", "is_non_answer"] and d.loc["survey:5", "is_non_answer"]
    assert not d.loc["survey:6", "is_non_answer"]
    st = res.statements.set_index("doc_id")
    assert bool(st.loc["survey:4", "is_non_answer"]) and st.loc["survey:4", "text"] == "N/A"
    assert res.counts["non_answers"] == 2
    for text in ("-", "n/a", "Nothing", "no comment!", "rien", "Rien à signaler.", "nimic", "...", ""):
        assert is_non_answer(text), text
    for text in ("Nothing works after the update", "ok but slow", "rien ne marche"):
        assert not is_non_answer(text), text


def test_statement_contract_and_contrast(prepared):
    _, res = prepared
    assert list(res.statements.columns) == STATEMENT_COLUMNS
    en = res.statements.query("doc_id == 'survey:6'")["text"].tolist()
    assert en == ["The app is great", "but billing is a nightmare."]
    st = res.statements
    assert (st["statement_id"] == st["doc_id"] + "#" + st["position"].astype(str)).all()
    assert st["customer_id"].notna().all() and st["created_at"].notna().all()
    assert res.documents.set_index("doc_id").loc["survey:7", "language"] == "und"


@pytest.mark.parametrize(
    ("lang", "sentence", "expected"),
    [
        ("it", "L'app funziona bene però il servizio clienti non risponde mai", 2),
        ("fr", "Le produit est bien, mais la livraison a pris trois semaines", 2),
        ("fr", "Interface agréable, cependant les factures sont souvent fausses", 2),
        ("ro", "Prețul e corect, însă aplicația se blochează des", 2),
        ("en", "Support was friendly, however the refund took a month", 2),
        ("en", "It is not only slow but also expensive", 1),  # additive, not a contrast
        ("en", "Nothing but trouble", 1),  # too short to be two opinions
    ],
)
def test_contrast_split(lang, sentence, expected):
    assert len(split_contrast(sentence, lang)) == expected


def test_short_fragments_merge_and_long_sentences_split():
    seg = Segmenter(min_chars=15, max_chars=120)
    long = ", ".join(f"the {w} screen shows the wrong total after saving" for w in ["first", "second", "third", "last"])
    [pieces] = seg.statements([f"Hi. Ok. {long}."], "en")
    assert pieces[0].startswith("Hi. Ok.")  # short sentences joined to a neighbour
    assert len(pieces) == 2 and all(len(p) <= 120 for p in pieces)
    assert pieces[1].startswith("the third")  # cut at the comma nearest the middle


def test_cards_luhn_checked():
    red = PatternRedactor()
    valid = "Charged twice on card 4539 1488 0343 6467, please refund."
    invalid = "Charged twice on card 4539 1488 0343 6468, please refund."
    assert luhn_ok("4539148803436467") and not luhn_ok("4539148803436468")
    out_valid, out_invalid = red.redact_many([valid, invalid])
    assert out_valid == "Charged twice on card <CARD>, please refund."
    assert "4539 1488 0343 6468" in out_invalid
    assert red.counts_["CARD"] == 1


def test_dates_amounts_and_ids_are_not_phones():
    red = PatternRedactor()
    texts = [
        "On 15.03.2024 we paid 1.234.567 lei for order #123456789012.",
        "Invoice 2024-03-15 total 1 234 567,89 EUR, ticket no. 4829301",
        "Server 10.0.0.12 refused the connection at 10:30:15",
    ]
    out = red.redact_many(texts)
    assert out[0] == texts[0] and out[1] == texts[1]
    assert out[2] == "Server <IP> refused the connection at 10:30:15"
    assert "PHONE" not in red.counts_


def test_iban_checksum():
    assert iban_ok("GB82WEST12345698765432") and iban_ok("FR1420041010050500013M02606")
    assert not iban_ok("GB82WEST12345698765433")
    out = PatternRedactor().redact_many(["IBAN: IT60 X054 2811 1010 0000 0123 456, grazie", "code GB82 WEST 1234"])
    assert out == ["IBAN: <IBAN>, grazie", "code GB82 WEST 1234"]


def test_boilerplate_by_frequency():
    macro = "Thank you for contacting Acme Support, a member of our team will reply within 24 hours."
    complaints = [
        "My invoice shows the wrong VAT number.",
        "The mobile app logs me out every hour.",
        "Refund for order 5521 never arrived.",
        "Export to CSV drops the last column.",
        "I cannot change my billing address.",
        "Two-factor codes arrive after they expire.",
    ]
    rows = [{"doc_id": f"ticket:{i}", "text": f"{macro}\n{c}"} for i, c in enumerate(complaints)]
    rows.append({"doc_id": "ticket:99", "text": "The mobile app logs me out every hour."})  # one-liner twin
    res = prepare_statements(_docs(rows), PrepareConfig(ner_names=False, boilerplate_min_docs=5))
    assert res.counts["boilerplate_lines_removed"] == 6
    assert not res.statements["text"].str.contains("contacting Acme").any()
    assert res.documents["text"].tolist()[:6] == complaints
    # Below the threshold nothing is removed.
    keys = find_boilerplate([f"{macro}\n{c}" for c in complaints[:3]], min_docs=5)
    assert keys == set()


def test_dedup_exact_and_near():
    base = "The invoice for March was charged twice and nobody answers my emails about it."
    texts = [
        base,
        "Great service",
        base.upper(),  # exact after normalization
        "Hello, " + base.replace("emails", "e-mails"),  # near (Jaccard of 5-grams ~0.8)
        "Great service",  # short: an opinion shared, not a copy
        "The mobile app crashes every time I try to upload a receipt photo from the gallery.",
    ]
    res = find_duplicates(texts, threshold=0.7, min_chars=40)
    assert res.duplicate_of.tolist() == [-1, -1, 0, 0, -1, -1]
    # A different complaint about another month is not a copy at a strict threshold.
    other = base.replace("March", "April").replace("nobody", "no one")
    assert find_duplicates([base, other], threshold=0.85).duplicate_of.tolist() == [-1, -1]
    assert (res.n_exact, res.n_near) == (1, 1)


def test_dedup_in_stage_points_to_first_copy():
    text = "Your last update deleted all my saved reports and support has not replied in a week."
    # The same customer pastes the complaint three times; another customer writes the same words.
    rows = [{"doc_id": f"survey:{i}", "text": text, "customer_id": "c1"} for i in range(3)]
    rows.append({"doc_id": "survey:3", "text": text, "customer_id": "c2"})
    res = prepare_statements(_docs(rows), PrepareConfig(ner_names=False))
    st = res.statements
    assert st["is_duplicate_of"].tolist() == [None, "survey:0#0", "survey:0#0", None]
    assert st["n_duplicates"].tolist() == [2, 0, 0, 0]
    assert res.counts["exact_duplicates"] == 2
    # Across customers (auto-generated tickets) with scope "all".
    res = prepare_statements(_docs(rows), PrepareConfig(ner_names=False, dedup_scope="all"))
    assert res.statements["is_duplicate_of"].tolist() == [None] + ["survey:0#0"] * 3


def test_language_und_and_out_of_set():
    det = LanguageDetector(["en", "it", "fr", "ro"], min_chars=12)
    codes, confs = det.detect(
        [
            "ok",
            "La aplicación no funciona desde la última actualización y nadie responde a mis correos.",
            "Il servizio clienti non risponde mai alle mie email",
            "Le remboursement n'est jamais arrivé",
        ]
    )
    assert codes == ["und", "es", "it", "fr"]
    assert confs[0] == 0.0 and all(0.5 < c <= 1.0 for c in confs[1:])
    res = prepare_statements(
        _docs([{"doc_id": "survey:1", "text": "Die App stürzt seit dem letzten Update ständig ab, bitte beheben."}]),
        PrepareConfig(ner_names=False),
    )
    assert res.counts["out_of_set_languages"] == {"de": 1}
    assert len(res.statements) == 1  # kept, not dropped


def test_attributes_redacted():
    docs = _docs(
        [{"doc_id": "survey:1", "text": "Slow app.", "attributes": '{"contact": "ana.pop@gmail.com", "plan": "pro"}'}]
    )
    res = prepare_statements(docs, PrepareConfig(ner_names=False))
    assert res.documents["attributes"].iloc[0] == '{"contact": "<EMAIL>", "plan": "pro"}'


def test_keep_raw_text_opt_out():
    docs = _docs([{"doc_id": "survey:1", "text": "Call me on +39 333 123 4567 please, the app is broken."}])
    res = prepare_statements(docs, PrepareConfig(ner_names=False, keep_raw_text=True))
    assert "+39 333 123 4567" in res.statements["text"].iloc[0]


def test_clean_body_reply_markers():
    en = "Still broken.\n\nOn Tue, Mar 5, 2024 at 9:14 AM Acme Support <help@acme.com>\nwrote:\n> Did you try again?"
    fr = "Toujours rien reçu.\n\nLe mar. 5 mars 2024 à 09:14, Support Acme <aide@acme.fr> a écrit :\n> Bonjour"
    ro = "Tot nu merge.\n\nÎn data de mar., 5 mar. 2024, Suport <suport@acme.ro> a scris:\n> Bună ziua"
    outlook = "Please cancel.\n\n-----Original Message-----\nFrom: Acme\nSent: Monday\nSubject: renewal"
    mobile = "Thanks for nothing.\n\nSent from my iPhone"
    ro = "Stimate domn/doamnă,\n\n" + ro + "\n\nMulțumesc anticipat,\nAlina Popa\nTrimis din Outlook pentru Android"
    assert [clean_body(t) for t in (en, fr, ro, outlook, mobile)] == [
        "Still broken.",
        "Toujours rien reçu.",
        "Tot nu merge.",
        "Please cancel.",
        "Thanks for nothing.",
    ]


@pytest.mark.slow
def test_ner_redacts_person_names():
    docs = _docs(
        [
            {"doc_id": "survey:1", "text": "I spoke with Sarah Johnson on the phone and she promised a refund."},
            {"doc_id": "survey:2", "text": "J'ai parlé avec Marie Lefèvre hier, elle devait me rappeler."},
            {"doc_id": "survey:3", "text": "Ciao, mi chiamo Luca Ferrari e l'app non si apre più."},
        ]
    )
    res = prepare_statements(docs, PrepareConfig())
    blob = " ".join(res.documents["text"])
    for name in ("Sarah", "Johnson", "Marie", "Lefèvre", "Luca", "Ferrari"):
        assert name not in blob
    assert res.counts["redactions"]["PERSON"] >= 3


@pytest.mark.slow
def test_ner_keeps_a_brand_found_in_many_texts():
    from collections import Counter

    from feedback_miner.prepare.pii import redact_names_ner

    texts = [
        "I expected better from Finora.",
        "Refunds take forever with Finora.",
        "Getting help from Finora is painfully slow.",
        "Huge thanks to Sarah Miller, who went above and beyond.",
    ]
    counts: Counter[str] = Counter()
    out = redact_names_ner(texts, "en", counts, max_doc_share=0.0, min_common_docs=3)
    assert out[:3] == texts[:3]  # the small model calls the brand a PERSON in every text
    assert out[3] == "Huge thanks to <PERSON>, who went above and beyond."
    assert counts["PERSON"] == 1


def test_signoff_in_any_language_is_cut():
    text = "Aplicația se blochează la autentificare.\n\nO seară plăcută,\nIoana Marinescu\nContabil, Alfa SRL"
    assert clean_body(text) == "Aplicația se blochează la autentificare."
    listing = "First, the login fails.\nSecond, the export is broken."
    assert clean_body(listing) == listing


# ------------------------------------------------------------------ per-night fixed costs (issue #23)


def test_name_stop_words_are_spacys_without_importing_spacy():
    """The name filter's stop words are spaCy's en/fr/it/ro lists, read without importing spaCy (whose
    French package compiles a large tokenizer regex: seconds paid every night for a word list)."""
    import subprocess
    import sys

    code = ("import sys; from feedback_miner.prepare.pii.names import stop_words; w = stop_words(); "
            "print(len(w), 'spacy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[1] == "False"
    from spacy.lang.en.stop_words import STOP_WORDS as EN
    from spacy.lang.fr.stop_words import STOP_WORDS as FR
    from spacy.lang.it.stop_words import STOP_WORDS as IT
    from spacy.lang.ro.stop_words import STOP_WORDS as RO

    from feedback_miner.prepare.pii.names import _NOT_NAMES, stop_words

    assert stop_words() == frozenset(EN | FR | IT | RO | _NOT_NAMES)
    assert int(out[0]) == len(stop_words())


def test_restricted_language_identifier_is_a_copy_of_the_full_one():
    """One model load per process: the restricted identifier shares the full one's model and
    classifies as one loaded from the file and restricted."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    from feedback_miner.prepare.language import _identifier

    full, restricted = _identifier(None), _identifier(("en", "fr", "it", "ro"))
    reference = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    reference.set_languages(["en", "fr", "it", "ro"])
    assert len(full.nb_classes) > 100 and restricted.nb_classes == reference.nb_classes
    assert restricted.tk_nextmove is full.tk_nextmove  # the model was not read again
    for text in ("Je voudrais annuler mon abonnement", "The app crashes when I log in",
                 "Non riesco ad accedere al conto", "Aplicația nu funcționează", "Danke schön für alles"):
        assert restricted.classify(text) == reference.classify(text)
    assert full.classify("Danke schön für alles, es war sehr gut")[0] == "de"  # the full one stays full
