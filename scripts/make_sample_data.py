"""Generate the bundled Finora sample corpus (surveys, tickets, customers) with planted effects.

Usage::

    python scripts/make_sample_data.py --seed 7 --out data/sample

The output is deterministic for a given seed and library versions: every random choice comes from one
``random.Random(seed)``, rows are written in a fixed order and no wall-clock time is used.

What it writes (see ``data/sample/README.md``, itself written by this script):

- ``surveys.csv``        NPS answers (response_id, customer_id, submitted_at, score, comment, survey,
  country, platform)
- ``tickets.jsonl``      support tickets (ticket_id, customer_id, created_at, subject, body, resolved_at,
  csat, channel, priority)
- ``customers.parquet``  customer_id, churned, churned_at, segment, plan, revenue, signup_at
- ``labels.csv``         ground truth per row: language and themes (for tests and benchmarks only)
- ``planted_effects.json`` the effect model and the effects as realised in this sample

All texts are hand-written for this project (Apache-2.0), except some English ticket sentences taken
from BANKING77 (CC BY 4.0, Casanueva et al. 2020), read from the vendored subset
``data/sample/third_party/banking77_subset.csv`` (made once with ``--extract-banking77 PATH``).
"""

# ruff: noqa: E501  (hand-written text bank and Markdown tables: long lines are content, not code)
from __future__ import annotations

import argparse
import csv
import html
import io
import json
import random
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
BANKING77_SUBSET = ROOT / "data" / "sample" / "third_party" / "banking77_subset.csv"

WINDOW_START = datetime(2026, 7, 20, tzinfo=UTC)
WINDOW_END = datetime(2026, 11, 20, 23, 59, 59, tzinfo=UTC)

N_CUSTOMERS = 1200
N_SURVEYS = 1800
N_TICKETS = 900
# Customers (and so texts) per language; "de"/"es" are out-of-set languages with one survey each.
LANG_WEIGHTS = {"en": 0.45, "it": 0.20, "fr": 0.20, "ro": 0.15}
N_OTHER_LANG = {"de": 8, "es": 7}
NON_ANSWER_SHARE = 0.05

# ------------------------------------------------------------------ planted effect model

BASELINE_CHURN = 0.12
DRIVER_CHURN_MULTIPLIER = 2.5
SEGMENT_CHURN_MULTIPLIER = {"smb": 1.0, "mid": 1.0, "enterprise": 2.0}
SEGMENT_WEIGHTS = {"smb": 0.60, "mid": 0.28, "enterprise": 0.12}
# Probability that a customer of the segment cares about integrations (the confounded theme).
INTEGRATION_PROPENSITY = {"smb": 0.01, "mid": 0.06, "enterprise": 0.60}
NPS_BASE, NPS_NOISE = 8.3, 1.3
CSAT_BASE, CSAT_NOISE = 4.2, 0.6
CSAT_MISSING_SHARE = 0.6


@dataclass(frozen=True)
class Theme:
    """One planted theme and its effects on the outcomes."""

    key: str
    label: str
    polarity: int  # -1 negative, 0 neutral request, +1 positive
    churn_driver: bool
    nps_effect: float  # added to the latent NPS (0-10) of an answer that mentions it
    csat_effect: float  # added to the latent CSAT (1-5) of a ticket that mentions it
    weight: float  # how often customers experience it (relative)


THEMES: dict[str, Theme] = {
    t.key: t
    for t in [
        Theme("double_charge", "Double charge / billing errors", -1, True, -3.0, -1.0, 0.12),
        Theme("app_crash", "App crashes & login problems", -1, True, -3.0, -1.0, 0.13),
        Theme("slow_support", "Slow or unhelpful customer support", -1, True, -3.0, -1.0, 0.11),
        Theme("card_delivery", "Card delivery delays", -1, False, -3.0, -1.0, 0.10),
        Theme("price_fees", "Price too high / fees", -1, False, -5.0, -2.2, 0.11),
        Theme("transfer_issues", "Transfers declined or delayed", -1, False, -3.0, -1.0, 0.10),
        Theme("refund_slow", "Refund takes too long", -1, False, -5.0, -2.2, 0.09),
        Theme("praise_app", "Praise: easy, well-designed app", 1, False, 1.5, 0.8, 0.14),
        Theme("praise_staff", "Praise: helpful staff", 1, False, 1.5, 0.8, 0.08),
        Theme("integration", "API / integrations / export to accounting", 0, False, 0.0, 0.0, 0.0),
    ]
}

# ------------------------------------------------------------------ hand-written text bank
# Placeholders: {amount} {days} {weeks} {agent} {merchant} {plan} {month} {version}

PHRASES: dict[str, dict[str, list[str]]] = {
    "double_charge": {
        "en": [
            "I was charged twice for my {plan} subscription this month.",
            "You took {amount} from my account two times for the same payment.",
            "My monthly fee of {amount} showed up twice on my statement.",
            "There is a duplicate charge of {amount} from {merchant} and nobody can explain it.",
            "Billing is a mess, I got debited twice on the same day.",
            "The same card payment at {merchant} went through twice.",
            "I keep seeing double transactions every time I pay by card.",
            "Finora billed me twice after I upgraded to {plan}.",
            "The subscription renewal was taken twice and my account went into overdraft.",
            "I was charged for the annual plan and the monthly plan at the same time.",
            "My invoice shows {amount} charged twice, which is simply wrong.",
            "Got billed two times for one purchase at {merchant}, really annoying.",
            "The billing system charged me again after I had already paid.",
            "Every month there is some billing error I have to chase.",
            "A payment of {amount} was duplicated and it took my balance below zero.",
            "I cancelled the old plan but you still charged me for both.",
            "Double charge again this month, third time this year.",
        ],
        "it": [
            "Mi avete addebitato due volte l'abbonamento {plan} questo mese.",
            "Mi sono stati prelevati {amount} due volte per lo stesso pagamento.",
            "Il canone mensile di {amount} compare due volte nell'estratto conto.",
            "C'è un doppio addebito di {amount} da {merchant} e nessuno sa spiegarmi perché.",
            "La fatturazione è un disastro, mi hanno addebitato due volte nello stesso giorno.",
            "Lo stesso pagamento con carta da {merchant} è passato due volte.",
            "Ogni volta che pago con la carta vedo transazioni doppie.",
            "Dopo il passaggio al piano {plan} mi avete fatturato tutto due volte.",
            "Il rinnovo dell'abbonamento è stato addebitato due volte e il conto è andato in rosso.",
            "Mi avete fatto pagare sia il piano annuale che quello mensile.",
            "In fattura risultano {amount} addebitati due volte, è semplicemente sbagliato.",
            "Addebito doppio per un solo acquisto da {merchant}, davvero fastidioso.",
            "Il sistema mi ha addebitato di nuovo un importo che avevo già pagato.",
            "Ogni mese c'è qualche errore di addebito da sistemare.",
            "Un pagamento di {amount} è stato duplicato e il saldo è finito sotto zero.",
            "Ho disdetto il vecchio piano ma mi avete addebitato comunque entrambi.",
            "Di nuovo un doppio addebito questo mese, è la terza volta quest'anno.",
        ],
        "fr": [
            "J'ai été prélevé deux fois pour mon abonnement {plan} ce mois-ci.",
            "Vous avez débité {amount} deux fois pour le même paiement.",
            "Ma mensualité de {amount} apparaît deux fois sur mon relevé.",
            "Il y a un double prélèvement de {amount} chez {merchant} et personne ne sait l'expliquer.",
            "La facturation est un vrai bazar, j'ai été débité deux fois le même jour.",
            "Le même paiement par carte chez {merchant} est passé deux fois.",
            "À chaque paiement par carte, je vois des transactions en double.",
            "Finora m'a facturé deux fois après mon passage à l'offre {plan}.",
            "Le renouvellement de l'abonnement a été prélevé deux fois et mon compte est passé à découvert.",
            "On m'a facturé à la fois l'offre annuelle et l'offre mensuelle.",
            "Ma facture indique {amount} prélevés deux fois, c'est tout simplement faux.",
            "Débité deux fois pour un seul achat chez {merchant}, c'est vraiment pénible.",
            "Le système m'a de nouveau prélevé un montant déjà payé.",
            "Chaque mois, il y a une erreur de facturation à corriger.",
            "Un paiement de {amount} a été dupliqué et mon solde est passé en négatif.",
            "J'ai résilié l'ancienne offre mais vous m'avez quand même facturé les deux.",
            "Encore un double prélèvement ce mois-ci, c'est la troisième fois cette année.",
        ],
        "ro": [
            "Mi-ați luat de două ori abonamentul {plan} luna aceasta.",
            "Mi s-au retras {amount} de două ori pentru aceeași plată.",
            "Abonamentul lunar de {amount} apare de două ori în extras.",
            "Am o plată dublă de {amount} la {merchant} și nimeni nu știe să-mi explice de ce.",
            "Facturarea e un haos, am fost taxat de două ori în aceeași zi.",
            "Aceeași plată cu cardul la {merchant} a trecut de două ori.",
            "De fiecare dată când plătesc cu cardul văd tranzacții duble.",
            "După ce am trecut pe planul {plan}, Finora m-a taxat de două ori.",
            "Reînnoirea abonamentului a fost încasată de două ori și am intrat pe minus.",
            "Mi-ați încasat și planul anual, și pe cel lunar în același timp.",
            "Pe factură apar {amount} luați de două ori, ceea ce e pur și simplu greșit.",
            "Taxat de două ori pentru o singură cumpărătură la {merchant}, foarte enervant.",
            "Sistemul mi-a luat din nou o sumă pe care o plătisem deja.",
            "În fiecare lună e câte o greșeală de facturare pe care trebuie s-o rezolv.",
            "O plată de {amount} a fost dublată și soldul a ajuns pe minus.",
            "Am renunțat la planul vechi, dar mi le-ați încasat pe amândouă.",
            "Din nou plată dublă luna asta, e a treia oară anul acesta.",
        ],
    },
    "app_crash": {
        "en": [
            "The app crashes every time I open the cards tab.",
            "I can't log in since the last update, it just shows a blank screen.",
            "The app keeps freezing on the login page.",
            "Face ID login stopped working and the app closes itself.",
            "After updating to version {version} the app crashes on startup.",
            "I get logged out every few minutes for no reason.",
            "The verification code never arrives so I cannot sign in.",
            "The app crashed in the middle of a payment and I had no idea if it went through.",
            "Login fails with 'something went wrong' over and over.",
            "The Android app is unusable, it crashes as soon as I tap on transactions.",
            "I've been locked out of my account for three days because the app won't load.",
            "Every time I try to add a payee, the app freezes and I have to restart my phone.",
            "The web login loops back to the start page after I enter my password.",
            "The app is so buggy lately, it crashes several times a day.",
            "My password reset link doesn't work and the app won't let me in.",
            "The app spins forever on the loading screen and then crashes.",
        ],
        "it": [
            "L'app si chiude ogni volta che apro la sezione carte.",
            "Dall'ultimo aggiornamento non riesco più ad accedere, vedo solo una schermata bianca.",
            "L'app si blocca sulla pagina di login.",
            "Il login con Face ID non funziona più e l'app si chiude da sola.",
            "Dopo l'aggiornamento alla versione {version} l'app va in crash all'avvio.",
            "Vengo disconnesso ogni pochi minuti senza motivo.",
            "Il codice di verifica non arriva mai, quindi non riesco ad entrare.",
            "L'app è crashata durante un pagamento e non so se sia andato a buon fine.",
            "Il login fallisce continuamente con il messaggio 'qualcosa è andato storto'.",
            "Su Android l'app è inutilizzabile, si chiude appena tocco i movimenti.",
            "Sono bloccato fuori dal conto da tre giorni perché l'app non si carica.",
            "Ogni volta che provo ad aggiungere un beneficiario l'app si blocca e devo riavviare il telefono.",
            "Dal sito, dopo aver inserito la password, torno sempre alla pagina iniziale.",
            "Ultimamente l'app è piena di bug, si chiude più volte al giorno.",
            "Il link per reimpostare la password non funziona e l'app non mi fa entrare.",
            "L'app resta a caricare all'infinito e poi si chiude.",
        ],
        "fr": [
            "L'application plante à chaque fois que j'ouvre l'onglet cartes.",
            "Depuis la dernière mise à jour, impossible de me connecter : j'ai juste un écran blanc.",
            "L'appli se fige sur la page de connexion.",
            "La connexion par Face ID ne marche plus et l'application se ferme toute seule.",
            "Depuis la version {version}, l'application plante au démarrage.",
            "Je suis déconnecté toutes les cinq minutes sans raison.",
            "Le code de vérification n'arrive jamais, donc je ne peux pas me connecter.",
            "L'appli a planté en plein paiement et je ne sais pas s'il est passé.",
            "La connexion échoue sans arrêt avec le message « Une erreur est survenue ».",
            "Sur Android, l'application est inutilisable : elle plante dès que j'ouvre mes opérations.",
            "Je n'ai plus accès à mon compte depuis trois jours car l'appli ne charge pas.",
            "À chaque fois que j'ajoute un bénéficiaire, l'application se bloque et je dois redémarrer mon téléphone.",
            "Sur le site, après avoir saisi mon mot de passe, je reviens à la page d'accueil.",
            "L'appli est pleine de bugs en ce moment, elle plante plusieurs fois par jour.",
            "Le lien de réinitialisation du mot de passe ne fonctionne pas et l'appli me bloque.",
            "L'application charge indéfiniment puis se ferme.",
        ],
        "ro": [
            "Aplicația se închide de fiecare dată când deschid secțiunea de carduri.",
            "De la ultima actualizare nu mă mai pot autentifica, apare doar un ecran alb.",
            "Aplicația se blochează pe pagina de autentificare.",
            "Autentificarea cu Face ID nu mai funcționează și aplicația se închide singură.",
            "După actualizarea la versiunea {version}, aplicația se închide la pornire.",
            "Sunt deconectat la fiecare câteva minute fără niciun motiv.",
            "Codul de verificare nu vine niciodată, așa că nu pot intra în cont.",
            "Aplicația s-a blocat în mijlocul unei plăți și nu știu dacă a trecut.",
            "Autentificarea eșuează mereu cu mesajul „A apărut o eroare”.",
            "Pe Android aplicația e de nefolosit, se închide imediat ce apăs pe tranzacții.",
            "Nu am acces la cont de trei zile pentru că aplicația nu se încarcă.",
            "De fiecare dată când încerc să adaug un beneficiar, aplicația îngheață și trebuie să repornesc telefonul.",
            "Pe site, după ce introduc parola, ajung din nou pe pagina de start.",
            "În ultima vreme aplicația e plină de buguri, se închide de câteva ori pe zi.",
            "Linkul de resetare a parolei nu funcționează și aplicația nu mă lasă să intru.",
            "Aplicația se încarcă la nesfârșit și apoi se închide.",
        ],
    },
    "slow_support": {
        "en": [
            "Customer support took {days} days to answer a simple question.",
            "The chat bot is useless and I can never reach a human.",
            "I waited over an hour in the chat queue and then got disconnected.",
            "Support keeps sending me the same copy-paste answer without reading my message.",
            "Nobody from support has replied to my email in {days} days.",
            "Your agents close the ticket without actually fixing anything.",
            "Getting help from Finora is painfully slow.",
            "I had to explain my problem to four different agents.",
            "Support promised a call back that never happened.",
            "The support team clearly doesn't understand the product.",
            "There is no phone number to call when something goes wrong, only a slow chat.",
            "Every reply from support takes days and answers nothing.",
            "I was told to 'wait 48 hours' three times in a row.",
            "The help centre articles are outdated and support just links to them.",
            "Customer service is the worst I have ever dealt with.",
            "My ticket was marked as resolved but nobody contacted me.",
        ],
        "it": [
            "L'assistenza clienti ci ha messo {days} giorni a rispondere a una domanda semplice.",
            "Il chatbot è inutile e non riesco mai a parlare con una persona.",
            "Ho aspettato più di un'ora in chat e poi la conversazione si è interrotta.",
            "L'assistenza mi manda sempre la stessa risposta preconfezionata senza leggere il mio messaggio.",
            "Nessuno dell'assistenza ha risposto alla mia email da {days} giorni.",
            "I vostri operatori chiudono il ticket senza risolvere niente.",
            "Ottenere aiuto da Finora è di una lentezza esasperante.",
            "Ho dovuto spiegare il problema a quattro operatori diversi.",
            "Mi avevano promesso di richiamarmi, ma non l'ha mai fatto nessuno.",
            "Il servizio clienti non conosce nemmeno il proprio prodotto.",
            "Non c'è un numero di telefono da chiamare, solo una chat lentissima.",
            "Ogni risposta dell'assistenza arriva dopo giorni e non risolve nulla.",
            "Mi hanno detto tre volte di seguito di 'attendere 48 ore'.",
            "Gli articoli del centro assistenza sono vecchi e l'assistenza si limita a mandarmi quelli.",
            "È il servizio clienti peggiore con cui abbia mai avuto a che fare.",
            "Il mio ticket risulta risolto ma nessuno mi ha contattato.",
        ],
        "fr": [
            "Le service client a mis {days} jours à répondre à une question simple.",
            "Le chatbot ne sert à rien et je n'arrive jamais à joindre un humain.",
            "J'ai attendu plus d'une heure dans le chat avant d'être déconnecté.",
            "Le support m'envoie toujours la même réponse toute faite sans lire mon message.",
            "Personne au support n'a répondu à mon e-mail depuis {days} jours.",
            "Vos conseillers ferment le ticket sans rien résoudre.",
            "Obtenir de l'aide chez Finora est d'une lenteur désespérante.",
            "J'ai dû expliquer mon problème à quatre conseillers différents.",
            "On m'avait promis un rappel qui n'est jamais venu.",
            "Le service client ne connaît même pas son propre produit.",
            "Aucun numéro de téléphone à appeler, seulement un chat très lent.",
            "Chaque réponse du support arrive après plusieurs jours et ne règle rien.",
            "On m'a dit trois fois de suite de « patienter 48 heures ».",
            "Les articles d'aide sont obsolètes et le support se contente de me les renvoyer.",
            "C'est le pire service client auquel j'aie jamais eu affaire.",
            "Mon ticket est marqué comme résolu alors que personne ne m'a contacté.",
        ],
        "ro": [
            "Serviciul clienți a avut nevoie de {days} zile ca să răspundă la o întrebare simplă.",
            "Chatbotul e inutil și nu reușesc niciodată să vorbesc cu un om.",
            "Am așteptat peste o oră în chat și apoi conversația s-a întrerupt.",
            "Suportul îmi trimite mereu același răspuns copiat, fără să-mi citească mesajul.",
            "Nimeni de la suport nu mi-a răspuns la e-mail de {days} zile.",
            "Operatorii voștri închid tichetul fără să rezolve nimic.",
            "Să primești ajutor de la Finora durează o veșnicie.",
            "A trebuit să-mi explic problema la patru operatori diferiți.",
            "Mi s-a promis că voi fi sunat înapoi, dar nu m-a sunat nimeni.",
            "Cei de la serviciul clienți nu-și cunosc nici măcar propriul produs.",
            "Nu există un număr de telefon, doar un chat foarte lent.",
            "Fiecare răspuns de la suport vine după câteva zile și nu rezolvă nimic.",
            "Mi s-a spus de trei ori la rând să „aștept 48 de ore”.",
            "Articolele din centrul de ajutor sunt depășite, iar suportul doar mi le trimite.",
            "E cel mai prost serviciu clienți cu care am avut de-a face.",
            "Tichetul meu apare ca rezolvat, dar nu m-a contactat nimeni.",
        ],
    },
    "card_delivery": {
        "en": [
            "My new card still hasn't arrived after {weeks} weeks.",
            "I ordered a replacement card a month ago and I'm still waiting.",
            "The card delivery estimate keeps changing, first 5 days and now 3 weeks.",
            "The physical card never arrived and I had to order another one.",
            "Card delivery to Ireland takes forever.",
            "I can't track my card and nobody knows where it is.",
            "It took almost a month to receive my debit card.",
            "My card was sent to my old address even though I updated it.",
            "Still no card in the post, I can only use the virtual one.",
            "The courier says the card was delivered but I never got it.",
            "Waiting {weeks} weeks for a plastic card is ridiculous in 2026.",
            "The metal card I paid extra for is delayed again.",
            "I can't use the account properly because the card hasn't come yet.",
            "Card shipping is extremely slow compared to other banks.",
            "My replacement card was lost in the post twice.",
        ],
        "it": [
            "La nuova carta non è ancora arrivata dopo {weeks} settimane.",
            "Ho richiesto una carta sostitutiva un mese fa e la sto ancora aspettando.",
            "La data di consegna della carta continua a cambiare, prima 5 giorni e ora 3 settimane.",
            "La carta fisica non è mai arrivata e ho dovuto ordinarne un'altra.",
            "La spedizione della carta in Italia richiede un'eternità.",
            "Non posso tracciare la carta e nessuno sa dove sia finita.",
            "Ci ho messo quasi un mese a ricevere la carta di debito.",
            "La carta è stata spedita al mio vecchio indirizzo anche se l'avevo aggiornato.",
            "Ancora nessuna carta nella cassetta della posta, posso usare solo quella virtuale.",
            "Il corriere dice che la carta è stata consegnata ma io non l'ho mai ricevuta.",
            "Aspettare {weeks} settimane per una carta di plastica nel 2026 è ridicolo.",
            "La carta in metallo per cui ho pagato un extra è di nuovo in ritardo.",
            "Non posso usare bene il conto perché la carta non è ancora arrivata.",
            "La spedizione delle carte è lentissima rispetto alle altre banche.",
            "La mia carta sostitutiva è andata persa per posta due volte.",
        ],
        "fr": [
            "Ma nouvelle carte n'est toujours pas arrivée après {weeks} semaines.",
            "J'ai commandé une carte de remplacement il y a un mois et j'attends encore.",
            "La date de livraison de la carte change sans arrêt : d'abord 5 jours, maintenant 3 semaines.",
            "La carte physique n'est jamais arrivée et j'ai dû en commander une autre.",
            "La livraison de la carte en France prend une éternité.",
            "Impossible de suivre l'envoi de ma carte et personne ne sait où elle est.",
            "Il m'a fallu presque un mois pour recevoir ma carte bancaire.",
            "Ma carte a été envoyée à mon ancienne adresse alors que je l'avais mise à jour.",
            "Toujours pas de carte dans ma boîte aux lettres, je ne peux utiliser que la carte virtuelle.",
            "Le transporteur dit que la carte a été livrée mais je ne l'ai jamais reçue.",
            "Attendre {weeks} semaines pour une carte en plastique en 2026, c'est ridicule.",
            "La carte en métal que j'ai payée en supplément est encore en retard.",
            "Je ne peux pas vraiment utiliser le compte tant que la carte n'est pas arrivée.",
            "L'envoi des cartes est extrêmement lent par rapport aux autres banques.",
            "Ma carte de remplacement a été perdue par La Poste deux fois.",
        ],
        "ro": [
            "Cardul nou încă nu a ajuns după {weeks} săptămâni.",
            "Am comandat un card de înlocuire acum o lună și încă aștept.",
            "Data de livrare a cardului se tot schimbă, întâi 5 zile, acum 3 săptămâni.",
            "Cardul fizic nu a mai ajuns și a trebuit să comand altul.",
            "Livrarea cardului în România durează o veșnicie.",
            "Nu pot urmări cardul și nimeni nu știe unde este.",
            "Mi-a luat aproape o lună să primesc cardul de debit.",
            "Cardul a fost trimis la adresa veche, deși o actualizasem.",
            "Tot nu am primit cardul prin poștă, pot folosi doar cardul virtual.",
            "Curierul spune că a livrat cardul, dar eu nu l-am primit niciodată.",
            "Să aștepți {weeks} săptămâni pentru un card de plastic în 2026 e ridicol.",
            "Cardul metalic pentru care am plătit în plus întârzie din nou.",
            "Nu pot folosi contul cum trebuie pentru că nu a venit cardul.",
            "Livrarea cardurilor e extrem de lentă față de alte bănci.",
            "Cardul de înlocuire s-a pierdut de două ori prin poștă.",
        ],
    },
    "price_fees": {
        "en": [
            "The monthly fee is too high for what you get.",
            "{amount} a month for the {plan} plan is way too expensive.",
            "There are hidden fees everywhere, especially on foreign transfers.",
            "You raised the price again without any new features.",
            "The ATM withdrawal fees are outrageous.",
            "I'm paying more with Finora than with my old bank.",
            "The currency exchange markup is much higher than advertised.",
            "Charging a fee for every card top-up is just greedy.",
            "The new pricing makes no sense for a small business like mine.",
            "Too expensive compared to Revolut or N26.",
            "I didn't expect to pay {amount} in fees for a simple transfer.",
            "The price increase in {month} was the last straw.",
            "Premium features are nice but the subscription is overpriced.",
            "Fees on weekend currency exchange are a rip-off.",
            "Why do I pay a fee to receive money from abroad?",
            "The plan used to be affordable, now it's far too pricey.",
        ],
        "it": [
            "Il canone mensile è troppo alto per quello che offre.",
            "{amount} al mese per il piano {plan} sono decisamente troppi.",
            "Ci sono commissioni nascoste ovunque, soprattutto sui bonifici esteri.",
            "Avete aumentato di nuovo il prezzo senza nessuna nuova funzione.",
            "Le commissioni sui prelievi al bancomat sono esagerate.",
            "Con Finora spendo più che con la mia vecchia banca.",
            "Il ricarico sul cambio valuta è molto più alto di quanto pubblicizzato.",
            "Far pagare una commissione per ogni ricarica è pura avidità.",
            "Il nuovo listino non ha senso per una piccola attività come la mia.",
            "Troppo caro rispetto a Revolut o N26.",
            "Non mi aspettavo di pagare {amount} di commissioni per un semplice bonifico.",
            "L'aumento di prezzo di {month} è stata la goccia che ha fatto traboccare il vaso.",
            "Le funzioni premium sono carine ma l'abbonamento costa troppo.",
            "Le commissioni sul cambio nel weekend sono un furto.",
            "Perché devo pagare una commissione per ricevere soldi dall'estero?",
            "Il piano prima era conveniente, adesso è davvero troppo caro.",
        ],
        "fr": [
            "L'abonnement mensuel est trop cher pour ce qu'il offre.",
            "{amount} par mois pour l'offre {plan}, c'est beaucoup trop.",
            "Il y a des frais cachés partout, surtout sur les virements à l'étranger.",
            "Vous avez encore augmenté le prix sans aucune nouvelle fonctionnalité.",
            "Les frais de retrait aux distributeurs sont scandaleux.",
            "Je paie plus cher avec Finora qu'avec mon ancienne banque.",
            "La marge sur le change est bien plus élevée qu'annoncé.",
            "Facturer des frais à chaque rechargement, c'est de l'avidité pure.",
            "La nouvelle grille tarifaire n'a aucun sens pour une petite entreprise comme la mienne.",
            "Trop cher par rapport à Revolut ou N26.",
            "Je ne m'attendais pas à payer {amount} de frais pour un simple virement.",
            "La hausse de prix de {month} a été la goutte d'eau qui fait déborder le vase.",
            "Les fonctions premium sont sympas mais l'abonnement est hors de prix.",
            "Les frais de change le week-end, c'est du vol.",
            "Pourquoi dois-je payer des frais pour recevoir de l'argent de l'étranger ?",
            "L'offre était abordable avant, maintenant elle est bien trop chère.",
        ],
        "ro": [
            "Abonamentul lunar e prea scump pentru ce oferă.",
            "{amount} pe lună pentru planul {plan} e mult prea mult.",
            "Sunt comisioane ascunse peste tot, mai ales la transferurile în străinătate.",
            "Ați crescut iar prețul fără nicio funcție nouă.",
            "Comisioanele la retragerea de numerar de la bancomat sunt exagerate.",
            "Plătesc mai mult la Finora decât la vechea mea bancă.",
            "Adaosul la schimbul valutar e mult mai mare decât cel promis.",
            "Să percepeți comision la fiecare alimentare e pură lăcomie.",
            "Noile tarife nu au niciun sens pentru o firmă mică precum a mea.",
            "Prea scump în comparație cu Revolut sau N26.",
            "Nu mă așteptam să plătesc {amount} comision pentru un simplu transfer.",
            "Scumpirea din {month} a fost picătura care a umplut paharul.",
            "Funcțiile premium sunt drăguțe, dar abonamentul e prea scump.",
            "Comisioanele de schimb valutar din weekend sunt un jaf.",
            "De ce trebuie să plătesc comision ca să primesc bani din străinătate?",
            "Planul era accesibil înainte, acum e mult prea scump.",
        ],
    },
    "transfer_issues": {
        "en": [
            "My transfer to another bank was declined without any explanation.",
            "A SEPA transfer I sent on Monday still hasn't reached the recipient.",
            "International transfers take days instead of minutes.",
            "My payment to a supplier was blocked for a 'security check' for a week.",
            "Transfers keep getting stuck in 'pending'.",
            "I couldn't pay my rent because the transfer failed twice.",
            "The instant transfer is anything but instant.",
            "The transfer was rejected because the beneficiary 'is not allowed', whatever that means.",
            "Money I sent {days} days ago is still not in my friend's account.",
            "The app says the transfer is complete but the recipient has nothing.",
            "Outgoing transfers above €1,000 are always delayed.",
            "My salary transfer arrived three days late.",
            "I tried to send money to my family in Romania and it was declined again.",
            "Transfers to my own savings account are randomly declined.",
            "The transfer limit blocked a payment I urgently needed to make.",
        ],
        "it": [
            "Il mio bonifico verso un'altra banca è stato rifiutato senza spiegazioni.",
            "Un bonifico SEPA inviato lunedì non è ancora arrivato al destinatario.",
            "I bonifici internazionali impiegano giorni invece di minuti.",
            "Il pagamento a un fornitore è rimasto bloccato per un 'controllo di sicurezza' per una settimana.",
            "I bonifici restano sempre 'in attesa'.",
            "Non ho potuto pagare l'affitto perché il bonifico è fallito due volte.",
            "Il bonifico istantaneo di istantaneo non ha proprio niente.",
            "Il bonifico è stato rifiutato perché il beneficiario 'non è consentito', qualunque cosa significhi.",
            "I soldi che ho mandato {days} giorni fa non sono ancora sul conto del mio amico.",
            "L'app dice che il bonifico è completato ma il destinatario non ha ricevuto nulla.",
            "I bonifici in uscita sopra i 1.000 € sono sempre in ritardo.",
            "Lo stipendio mi è arrivato con tre giorni di ritardo.",
            "Ho provato a mandare soldi alla mia famiglia e il bonifico è stato di nuovo rifiutato.",
            "I trasferimenti verso il mio conto risparmio vengono rifiutati a caso.",
            "Il limite sui bonifici mi ha bloccato un pagamento urgente.",
        ],
        "fr": [
            "Mon virement vers une autre banque a été refusé sans aucune explication.",
            "Un virement SEPA envoyé lundi n'est toujours pas arrivé chez le destinataire.",
            "Les virements internationaux prennent des jours au lieu de quelques minutes.",
            "Mon paiement à un fournisseur a été bloqué une semaine pour un « contrôle de sécurité ».",
            "Les virements restent bloqués « en attente ».",
            "Je n'ai pas pu payer mon loyer car le virement a échoué deux fois.",
            "Le virement instantané n'a rien d'instantané.",
            "Le virement a été rejeté car le bénéficiaire « n'est pas autorisé », allez savoir pourquoi.",
            "L'argent envoyé il y a {days} jours n'est toujours pas sur le compte de mon ami.",
            "L'appli indique que le virement est terminé mais le destinataire n'a rien reçu.",
            "Les virements sortants de plus de 1 000 € sont toujours retardés.",
            "Mon salaire est arrivé avec trois jours de retard.",
            "J'ai essayé d'envoyer de l'argent à ma famille et le virement a encore été refusé.",
            "Les virements vers mon propre compte épargne sont refusés au hasard.",
            "Le plafond de virement a bloqué un paiement urgent.",
        ],
        "ro": [
            "Transferul către altă bancă mi-a fost refuzat fără nicio explicație.",
            "Un transfer SEPA trimis luni încă nu a ajuns la destinatar.",
            "Transferurile internaționale durează zile în loc de minute.",
            "Plata către un furnizor a fost blocată o săptămână pentru o „verificare de securitate”.",
            "Transferurile rămân mereu blocate „în așteptare”.",
            "Nu am putut plăti chiria pentru că transferul a eșuat de două ori.",
            "Transferul instant nu are nimic instant.",
            "Transferul a fost respins pentru că beneficiarul „nu este permis”, orice ar însemna asta.",
            "Banii trimiși acum {days} zile încă nu sunt în contul prietenului meu.",
            "Aplicația spune că transferul e finalizat, dar destinatarul n-a primit nimic.",
            "Transferurile de peste 5.000 de lei întârzie de fiecare dată.",
            "Salariul mi-a intrat cu trei zile întârziere.",
            "Am încercat să trimit bani familiei din Italia și transferul a fost din nou refuzat.",
            "Transferurile în propriul cont de economii sunt refuzate la întâmplare.",
            "Limita de transfer mi-a blocat o plată urgentă.",
        ],
    },
    "refund_slow": {
        "en": [
            "I've been waiting {weeks} weeks for a refund of {amount}.",
            "The merchant refunded me but the money still hasn't appeared in my account.",
            "Refunds take forever with Finora.",
            "You promised a refund within 5 days and it's been a month.",
            "My refund request has been 'in progress' since {month}.",
            "Still no refund for the double charge, and nobody tells me why.",
            "The refund for my cancelled order from {merchant} is nowhere to be seen.",
            "Getting my own money back should not take six weeks.",
            "I asked for a refund of the subscription fee and heard nothing back.",
            "The refund process is slow and completely opaque.",
            "A disputed payment was approved for refund weeks ago and I'm still waiting.",
            "The refund disappeared from the app and never reached my balance.",
            "I had to ask three times before the refund was even started.",
            "Refunds for card payments take much longer than at any other bank.",
            "It's been {days} days and my refund still isn't showing up.",
        ],
        "it": [
            "Aspetto da {weeks} settimane un rimborso di {amount}.",
            "Il negozio mi ha rimborsato ma i soldi non sono ancora comparsi sul conto.",
            "Con Finora i rimborsi non arrivano mai.",
            "Mi avevate promesso il rimborso entro 5 giorni ed è passato un mese.",
            "La mia richiesta di rimborso è 'in lavorazione' da {month}.",
            "Ancora nessun rimborso per il doppio addebito, e nessuno mi dice perché.",
            "Il rimborso per l'ordine annullato su {merchant} non si vede da nessuna parte.",
            "Riavere i miei soldi non dovrebbe richiedere sei settimane.",
            "Ho chiesto il rimborso del canone e non ho più saputo niente.",
            "La procedura di rimborso è lenta e per niente trasparente.",
            "Un pagamento contestato è stato approvato per il rimborso settimane fa e sto ancora aspettando.",
            "Il rimborso è sparito dall'app e non è mai arrivato sul saldo.",
            "Ho dovuto chiedere tre volte prima che avviassero il rimborso.",
            "I rimborsi sui pagamenti con carta sono molto più lenti che in qualsiasi altra banca.",
            "Sono passati {days} giorni e il rimborso ancora non si vede.",
        ],
        "fr": [
            "J'attends depuis {weeks} semaines un remboursement de {amount}.",
            "Le commerçant m'a remboursé mais l'argent n'apparaît toujours pas sur mon compte.",
            "Chez Finora, les remboursements prennent une éternité.",
            "Vous aviez promis un remboursement sous 5 jours et cela fait un mois.",
            "Ma demande de remboursement est « en cours de traitement » depuis {month}.",
            "Toujours aucun remboursement pour le double prélèvement, et personne ne m'explique pourquoi.",
            "Le remboursement de ma commande annulée chez {merchant} reste introuvable.",
            "Récupérer mon propre argent ne devrait pas prendre six semaines.",
            "J'ai demandé le remboursement de l'abonnement et je n'ai plus eu de nouvelles.",
            "La procédure de remboursement est lente et totalement opaque.",
            "Un paiement contesté a été accepté pour remboursement il y a des semaines et j'attends toujours.",
            "Le remboursement a disparu de l'appli et n'est jamais arrivé sur mon solde.",
            "J'ai dû relancer trois fois avant que le remboursement soit lancé.",
            "Les remboursements de paiements par carte sont bien plus lents que dans n'importe quelle autre banque.",
            "Cela fait {days} jours et mon remboursement n'apparaît toujours pas.",
        ],
        "ro": [
            "Aștept de {weeks} săptămâni o rambursare de {amount}.",
            "Comerciantul mi-a returnat banii, dar încă nu apar în cont.",
            "La Finora rambursările durează o veșnicie.",
            "Mi-ați promis rambursarea în 5 zile și a trecut o lună.",
            "Cererea mea de rambursare e „în procesare” din {month}.",
            "Încă nicio rambursare pentru plata dublă și nimeni nu-mi spune de ce.",
            "Rambursarea pentru comanda anulată de pe {merchant} nu se vede nicăieri.",
            "Să-mi primesc înapoi propriii bani n-ar trebui să dureze șase săptămâni.",
            "Am cerut rambursarea abonamentului și n-am mai auzit nimic.",
            "Procesul de rambursare e lent și complet netransparent.",
            "O plată contestată a fost aprobată pentru rambursare acum câteva săptămâni și încă aștept.",
            "Rambursarea a dispărut din aplicație și n-a mai ajuns în sold.",
            "A trebuit să cer de trei ori până să înceapă rambursarea.",
            "Rambursările la plățile cu cardul durează mult mai mult decât la orice altă bancă.",
            "Au trecut {days} zile și rambursarea tot nu apare.",
        ],
    },
    "praise_app": {
        "en": [
            "The app is really easy to use.",
            "Love the clean design, everything is where I expect it.",
            "Setting up the account took five minutes, super smooth.",
            "The spending categories and charts are really useful.",
            "Best banking app I've used, very intuitive.",
            "Instant notifications for every payment are great.",
            "I like how simple it is to split bills with friends.",
            "The interface is fast and beautifully designed.",
            "Freezing and unfreezing my card in the app is so convenient.",
            "Budgeting tools are excellent and easy to understand.",
            "Everything works smoothly, from payments to savings pots.",
            "The app makes managing money actually enjoyable.",
            "Very user-friendly, even my parents can use it.",
            "Dark mode and the new home screen look fantastic.",
            "Paying with Apple Pay through Finora works flawlessly.",
            "The app is great and I recommend it to all my friends.",
        ],
        "it": [
            "L'app è davvero facile da usare.",
            "Adoro il design pulito, trovo tutto dove me lo aspetto.",
            "Aprire il conto ha richiesto cinque minuti, semplicissimo.",
            "Le categorie di spesa e i grafici sono utilissimi.",
            "La migliore app bancaria che abbia mai usato, molto intuitiva.",
            "Le notifiche immediate per ogni pagamento sono comodissime.",
            "Mi piace quanto sia semplice dividere le spese con gli amici.",
            "L'interfaccia è veloce e curata nei dettagli.",
            "Bloccare e sbloccare la carta dall'app è comodissimo.",
            "Gli strumenti per il budget sono ottimi e facili da capire.",
            "Funziona tutto alla perfezione, dai pagamenti ai salvadanai.",
            "Con questa app gestire i soldi è quasi un piacere.",
            "Molto intuitiva, riescono a usarla anche i miei genitori.",
            "La modalità scura e la nuova schermata iniziale sono bellissime.",
            "Pagare con Apple Pay tramite Finora funziona senza problemi.",
            "L'app è ottima e la consiglio a tutti i miei amici.",
        ],
        "fr": [
            "L'application est vraiment simple à utiliser.",
            "J'adore le design épuré, tout est là où je l'attends.",
            "Ouvrir le compte m'a pris cinq minutes, c'est hyper fluide.",
            "Les catégories de dépenses et les graphiques sont très utiles.",
            "La meilleure appli bancaire que j'aie utilisée, très intuitive.",
            "Les notifications instantanées pour chaque paiement sont top.",
            "J'aime la facilité pour partager les dépenses entre amis.",
            "L'interface est rapide et très soignée.",
            "Bloquer et débloquer ma carte depuis l'appli, c'est très pratique.",
            "Les outils de budget sont excellents et faciles à comprendre.",
            "Tout fonctionne parfaitement, des paiements aux cagnottes d'épargne.",
            "Grâce à l'appli, gérer mon argent devient presque agréable.",
            "Très intuitive, même mes parents arrivent à s'en servir.",
            "Le mode sombre et le nouvel écran d'accueil sont superbes.",
            "Payer avec Apple Pay via Finora fonctionne sans accroc.",
            "L'application est géniale, je la recommande à tous mes amis.",
        ],
        "ro": [
            "Aplicația e foarte ușor de folosit.",
            "Îmi place designul curat, găsesc totul unde mă aștept.",
            "Deschiderea contului a durat cinci minute, super simplu.",
            "Categoriile de cheltuieli și graficele sunt foarte utile.",
            "Cea mai bună aplicație bancară pe care am folosit-o, foarte intuitivă.",
            "Notificările instant la fiecare plată sunt excelente.",
            "Îmi place cât de simplu e să împart cheltuielile cu prietenii.",
            "Interfața e rapidă și foarte bine făcută.",
            "Blocarea și deblocarea cardului din aplicație e foarte comodă.",
            "Instrumentele de buget sunt excelente și ușor de înțeles.",
            "Totul merge perfect, de la plăți până la pușculițele de economii.",
            "Cu aplicația asta, gestionarea banilor chiar devine plăcută.",
            "Foarte intuitivă, chiar și părinții mei o pot folosi.",
            "Modul întunecat și noul ecran principal arată superb.",
            "Plata cu Apple Pay prin Finora merge fără probleme.",
            "Aplicația e grozavă și o recomand tuturor prietenilor.",
        ],
    },
    "praise_staff": {
        "en": [
            "{agent} from support was incredibly helpful.",
            "The support agent solved my problem in minutes, thank you!",
            "Customer service was friendly and patient with me.",
            "Huge thanks to {agent}, who went above and beyond.",
            "The staff explained everything clearly and followed up the next day.",
            "Your support team is fantastic, fast and kind.",
            "I had a great experience with the chat team today.",
            "{agent} called me back as promised and fixed everything.",
            "Support staff are knowledgeable and genuinely care.",
            "The person I spoke to was very professional and helpful.",
            "Really appreciated how quickly the team sorted out my issue.",
            "Excellent service from {agent} in the chat.",
            "The agent was polite and resolved my card issue right away.",
            "Your team handled my complaint with real empathy.",
            "Every time I contact support they are helpful and quick.",
        ],
        "it": [
            "{agent} dell'assistenza mi ha aiutato tantissimo.",
            "L'operatore ha risolto il mio problema in pochi minuti, grazie!",
            "Il servizio clienti è stato cordiale e paziente con me.",
            "Un grazie enorme a {agent}, che ha fatto molto più del dovuto.",
            "Il personale mi ha spiegato tutto con chiarezza e mi ha ricontattato il giorno dopo.",
            "Il vostro team di assistenza è fantastico, veloce e gentile.",
            "Oggi ho avuto un'ottima esperienza con la chat.",
            "{agent} mi ha richiamato come promesso e ha sistemato tutto.",
            "Gli operatori sono competenti e ci tengono davvero.",
            "La persona con cui ho parlato è stata molto professionale e disponibile.",
            "Ho apprezzato molto la rapidità con cui il team ha risolto il problema.",
            "Servizio eccellente da parte di {agent} in chat.",
            "L'operatore è stato cortese e ha risolto subito il problema con la carta.",
            "Il team ha gestito il mio reclamo con grande empatia.",
            "Ogni volta che contatto l'assistenza sono disponibili e veloci.",
        ],
        "fr": [
            "{agent} du service client m'a énormément aidé.",
            "Le conseiller a réglé mon problème en quelques minutes, merci !",
            "Le service client a été aimable et patient avec moi.",
            "Un grand merci à {agent}, qui a fait bien plus que nécessaire.",
            "L'équipe m'a tout expliqué clairement et m'a recontacté le lendemain.",
            "Votre équipe support est formidable, rapide et bienveillante.",
            "Excellente expérience avec le chat aujourd'hui.",
            "{agent} m'a rappelé comme promis et a tout réglé.",
            "Les conseillers sont compétents et vraiment à l'écoute.",
            "La personne que j'ai eue au téléphone était très professionnelle et serviable.",
            "J'ai beaucoup apprécié la rapidité avec laquelle l'équipe a résolu mon souci.",
            "Service impeccable de la part de {agent} sur le chat.",
            "Le conseiller a été courtois et a résolu tout de suite mon problème de carte.",
            "Votre équipe a traité ma réclamation avec beaucoup d'empathie.",
            "À chaque fois que je contacte le support, ils sont disponibles et rapides.",
        ],
        "ro": [
            "{agent} de la suport m-a ajutat enorm.",
            "Operatorul mi-a rezolvat problema în câteva minute, mulțumesc!",
            "Cei de la serviciul clienți au fost amabili și răbdători cu mine.",
            "Un mulțumesc special pentru {agent}, care a făcut mult mai mult decât trebuia.",
            "Echipa mi-a explicat totul clar și m-a contactat din nou a doua zi.",
            "Echipa voastră de suport e fantastică, rapidă și amabilă.",
            "Am avut azi o experiență excelentă cu echipa de pe chat.",
            "{agent} m-a sunat înapoi cum a promis și a rezolvat tot.",
            "Operatorii sunt pricepuți și chiar le pasă.",
            "Persoana cu care am vorbit a fost foarte profesionistă și de ajutor.",
            "Am apreciat mult cât de repede a rezolvat echipa problema mea.",
            "Servicii excelente de la {agent} pe chat.",
            "Operatorul a fost politicos și mi-a rezolvat imediat problema cu cardul.",
            "Echipa a tratat reclamația mea cu multă empatie.",
            "De fiecare dată când contactez suportul, sunt disponibili și rapizi.",
        ],
    },
    "integration": {
        "en": [
            "We need a direct export to Xero for our accounting.",
            "Please add an API so we can sync transactions with our ERP.",
            "The CSV export doesn't match the format our accountant needs.",
            "An integration with QuickBooks would save our finance team hours.",
            "The API rate limits are too low for our transaction volume.",
            "We'd like webhooks for incoming payments.",
            "Exporting statements to our accounting software is still a manual process.",
            "Our finance team wants SSO and an API for bulk payments.",
            "The accounting export misses the VAT fields.",
            "Is there a way to connect Finora to SAP? We couldn't find any documentation.",
            "Bulk payment uploads via the API would be a big help.",
            "We need multi-entity reporting and an export for consolidation.",
            "The API documentation is incomplete for card transactions.",
            "Can you provide an OFX or CAMT.053 export for reconciliation?",
            "Syncing receipts to our expense tool would make month-end much easier.",
        ],
        "it": [
            "Ci serve un'esportazione diretta verso Xero per la contabilità.",
            "Aggiungete un'API per sincronizzare i movimenti con il nostro gestionale.",
            "L'export CSV non è nel formato che serve al nostro commercialista.",
            "Un'integrazione con QuickBooks farebbe risparmiare ore al nostro ufficio amministrativo.",
            "I limiti di chiamate dell'API sono troppo bassi per i nostri volumi.",
            "Vorremmo dei webhook per i pagamenti in entrata.",
            "Esportare gli estratti conto verso il gestionale è ancora un lavoro manuale.",
            "Il nostro reparto finanza chiede SSO e un'API per i pagamenti massivi.",
            "L'esportazione contabile non include i campi IVA.",
            "Si può collegare Finora a SAP? Non abbiamo trovato documentazione.",
            "Caricare i pagamenti massivi tramite API ci aiuterebbe molto.",
            "Ci serve un report multi-società e un export per il consolidato.",
            "La documentazione dell'API è incompleta per le transazioni con carta.",
            "Potete fornire un export CAMT.053 o CBI per la riconciliazione?",
            "Sincronizzare le ricevute con il nostro strumento note spese semplificherebbe la chiusura del mese.",
            "Serve la fatturazione elettronica integrata con il Sistema di Interscambio.",
        ],
        "fr": [
            "Nous avons besoin d'un export direct vers Xero pour la comptabilité.",
            "Merci d'ajouter une API pour synchroniser les opérations avec notre ERP.",
            "L'export CSV ne correspond pas au format demandé par notre expert-comptable.",
            "Une intégration avec Pennylane ferait gagner des heures à notre service financier.",
            "Les limites de requêtes de l'API sont trop basses pour notre volume de transactions.",
            "Nous aimerions des webhooks pour les paiements entrants.",
            "L'export des relevés vers notre logiciel comptable reste manuel.",
            "Notre direction financière demande le SSO et une API pour les virements groupés.",
            "L'export comptable n'inclut pas les champs de TVA.",
            "Peut-on connecter Finora à SAP ? Nous n'avons trouvé aucune documentation.",
            "L'envoi de virements groupés par API nous aiderait beaucoup.",
            "Il nous faut un reporting multi-entités et un export pour la consolidation.",
            "La documentation de l'API est incomplète pour les transactions par carte.",
            "Pouvez-vous fournir un export CAMT.053 ou OFX pour le rapprochement bancaire ?",
            "Synchroniser les justificatifs avec notre outil de notes de frais simplifierait la clôture mensuelle.",
        ],
        "ro": [
            "Avem nevoie de un export direct în Xero pentru contabilitate.",
            "Vă rugăm să adăugați un API ca să sincronizăm tranzacțiile cu ERP-ul nostru.",
            "Exportul CSV nu are formatul de care are nevoie contabilul nostru.",
            "O integrare cu SmartBill i-ar scuti pe colegii de la financiar de ore întregi de muncă.",
            "Limitele de apeluri ale API-ului sunt prea mici pentru volumul nostru de tranzacții.",
            "Am vrea webhookuri pentru plățile primite.",
            "Exportul extraselor în programul de contabilitate e încă manual.",
            "Departamentul financiar cere SSO și un API pentru plăți în masă.",
            "Exportul contabil nu include câmpurile de TVA.",
            "Se poate conecta Finora la SAP? N-am găsit nicio documentație.",
            "Încărcarea plăților în masă prin API ne-ar ajuta mult.",
            "Avem nevoie de raportare pe mai multe firme și de un export pentru consolidare.",
            "Documentația API-ului e incompletă pentru tranzacțiile cu cardul.",
            "Puteți oferi un export CAMT.053 sau MT940 pentru reconciliere?",
            "Sincronizarea bonurilor cu aplicația noastră de deconturi ar simplifica închiderea de lună.",
            "Avem nevoie de integrare cu e-Factura de la ANAF.",
        ],
    },
}

# Out-of-set languages: a few survey answers only, to show "other language" counting.
OTHER_LANG_PHRASES: dict[str, dict[str, str]] = {
    "de": {
        "double_charge": "Mir wurde das Abo diesen Monat zweimal abgebucht.",
        "app_crash": "Die App stürzt seit dem letzten Update ständig ab.",
        "slow_support": "Der Kundenservice hat eine Woche gebraucht, um zu antworten.",
        "card_delivery": "Meine Karte ist nach drei Wochen immer noch nicht angekommen.",
        "price_fees": "Die Gebühren für Auslandsüberweisungen sind viel zu hoch.",
        "transfer_issues": "Meine Überweisung hängt seit Tagen im Status „ausstehend“ fest.",
        "praise_app": "Die App ist wirklich einfach und übersichtlich.",
        "praise_staff": "Sehr freundlicher und kompetenter Support, vielen Dank!",
    },
    "es": {
        "double_charge": "Me habéis cobrado dos veces la suscripción este mes.",
        "app_crash": "La aplicación se cierra cada vez que intento iniciar sesión.",
        "slow_support": "El servicio de atención al cliente tarda días en responder.",
        "refund_slow": "Llevo un mes esperando el reembolso y nadie me dice nada.",
        "price_fees": "La cuota mensual es demasiado cara para lo que ofrece.",
        "transfer_issues": "Mi transferencia fue rechazada sin ninguna explicación.",
        "praise_app": "La app es muy fácil de usar, me encanta.",
    },
}

SUBJECTS: dict[str, dict[str, list[str]]] = {
    "double_charge": {
        "en": ["Charged twice", "Duplicate payment on my account", "Billing error", "Double charge!!",
               "Why was I billed twice?", "Wrong amount charged for subscription"],
        "it": ["Doppio addebito", "Addebito duplicato", "Errore di fatturazione", "Pagamento addebitato due volte",
               "Abbonamento addebitato due volte", "Addebito non corretto"],
        "fr": ["Double prélèvement", "Paiement débité deux fois", "Erreur de facturation", "Prélevé deux fois !!",
               "Facturation en double", "Montant prélevé incorrect"],
        "ro": ["Plată dublă", "Taxare dublă", "Eroare de facturare", "Abonament încasat de două ori",
               "Mi s-a luat de două ori", "Sumă greșită încasată"],
    },
    "app_crash": {
        "en": ["App keeps crashing", "Can't log in", "Login problem", "App not working after update",
               "Locked out of my account", "Blank screen on login"],
        "it": ["L'app si chiude", "Non riesco ad accedere", "Problema di login", "App non funziona dopo l'aggiornamento",
               "Accesso bloccato", "Schermata bianca"],
        "fr": ["L'application plante", "Impossible de me connecter", "Problème de connexion",
               "Appli inutilisable depuis la mise à jour", "Compte bloqué", "Écran blanc au démarrage"],
        "ro": ["Aplicația se închide", "Nu mă pot autentifica", "Problemă la logare", "Aplicația nu merge după update",
               "Cont blocat", "Ecran alb la pornire"],
    },
    "slow_support": {
        "en": ["Still no answer", "Complaint about customer service", "Nobody is replying", "Third time asking",
               "Terrible support", "Escalation request"],
        "it": ["Ancora nessuna risposta", "Reclamo sul servizio clienti", "Nessuno risponde", "Terzo sollecito",
               "Assistenza pessima", "Richiesta di escalation"],
        "fr": ["Toujours pas de réponse", "Réclamation service client", "Personne ne répond", "Troisième relance",
               "Support déplorable", "Demande d'escalade"],
        "ro": ["Încă niciun răspuns", "Reclamație serviciu clienți", "Nu răspunde nimeni", "A treia oară când scriu",
               "Suport dezastruos", "Cerere de escaladare"],
    },
    "card_delivery": {
        "en": ["Card not arrived", "Where is my card?", "Card delivery delay", "Replacement card still missing",
               "Track my card", "Card never received"],
        "it": ["Carta non arrivata", "Dov'è la mia carta?", "Ritardo consegna carta", "Carta sostitutiva mai arrivata",
               "Tracciamento carta", "Carta mai ricevuta"],
        "fr": ["Carte non reçue", "Où est ma carte ?", "Retard de livraison de la carte", "Carte de remplacement introuvable",
               "Suivi de ma carte", "Carte jamais arrivée"],
        "ro": ["Cardul nu a ajuns", "Unde este cardul meu?", "Întârziere livrare card", "Cardul de înlocuire lipsește",
               "Urmărire card", "Card neprimit"],
    },
    "price_fees": {
        "en": ["Fees", "Price increase", "Unexpected fee on transfer", "Why am I paying this fee?",
               "Cancel subscription - too expensive", "Exchange rate markup"],
        "it": ["Commissioni", "Aumento di prezzo", "Commissione inattesa sul bonifico", "Perché pago questa commissione?",
               "Disdetta abbonamento - troppo caro", "Ricarico sul cambio"],
        "fr": ["Frais", "Augmentation de prix", "Frais inattendus sur virement", "Pourquoi ces frais ?",
               "Résiliation - trop cher", "Marge sur le change"],
        "ro": ["Comisioane", "Creștere de preț", "Comision neașteptat la transfer", "De ce plătesc acest comision?",
               "Anulare abonament - prea scump", "Adaos la schimb valutar"],
    },
    "transfer_issues": {
        "en": ["Transfer declined", "Transfer not received", "Payment stuck in pending", "SEPA transfer delayed",
               "Urgent: rent payment failed", "Beneficiary not allowed?"],
        "it": ["Bonifico rifiutato", "Bonifico non arrivato", "Pagamento in attesa", "Bonifico SEPA in ritardo",
               "Urgente: affitto non pagato", "Beneficiario non consentito?"],
        "fr": ["Virement refusé", "Virement non reçu", "Paiement bloqué en attente", "Virement SEPA en retard",
               "Urgent : loyer non payé", "Bénéficiaire non autorisé ?"],
        "ro": ["Transfer refuzat", "Transfer neprimit", "Plată blocată în așteptare", "Transfer SEPA întârziat",
               "Urgent: chiria neplătită", "Beneficiar nepermis?"],
    },
    "refund_slow": {
        "en": ["Refund not received", "Where is my refund?", "Refund delay", "Refund still pending",
               "Chasing my refund", "Refund request"],
        "it": ["Rimborso non ricevuto", "Dov'è il mio rimborso?", "Ritardo rimborso", "Rimborso ancora in attesa",
               "Sollecito rimborso", "Richiesta di rimborso"],
        "fr": ["Remboursement non reçu", "Où est mon remboursement ?", "Retard de remboursement",
               "Remboursement toujours en attente", "Relance remboursement", "Demande de remboursement"],
        "ro": ["Rambursare neprimită", "Unde este rambursarea?", "Întârziere rambursare", "Rambursare încă în așteptare",
               "Revin pentru rambursare", "Cerere de rambursare"],
    },
    "praise_app": {
        "en": ["Feedback", "Love the app", "Just a compliment"],
        "it": ["Feedback", "App fantastica", "Un complimento"],
        "fr": ["Retour", "J'adore l'appli", "Un petit compliment"],
        "ro": ["Feedback", "Aplicație super", "Un compliment"],
    },
    "praise_staff": {
        "en": ["Thank you!", "Great service", "Thanks to your agent"],
        "it": ["Grazie!", "Ottimo servizio", "Ringraziamento all'operatore"],
        "fr": ["Merci !", "Excellent service", "Merci à votre conseiller"],
        "ro": ["Mulțumesc!", "Servicii excelente", "Mulțumiri operatorului"],
    },
    "integration": {
        "en": ["API access", "Accounting export", "Xero integration", "Feature request: bulk payments API"],
        "it": ["Accesso API", "Export contabile", "Integrazione gestionale", "Richiesta: API pagamenti massivi"],
        "fr": ["Accès API", "Export comptable", "Intégration Xero", "Demande : API virements groupés"],
        "ro": ["Acces API", "Export contabil", "Integrare contabilitate", "Cerere: API plăți în masă"],
    },
}
GENERIC_SUBJECTS = {
    "en": ["Help", "Problem with my account", "Urgent", "Question", "Complaint"],
    "it": ["Aiuto", "Problema con il conto", "Urgente", "Domanda", "Reclamo"],
    "fr": ["Aide", "Problème avec mon compte", "Urgent", "Question", "Réclamation"],
    "ro": ["Ajutor", "Problemă cu contul", "Urgent", "Întrebare", "Reclamație"],
}

OPENERS = {
    "en": ["Honestly?", "Quick feedback:", "I've been with Finora for {years} years.", "As a small business owner:",
           "Long-time customer here.", "To be honest,", "Well,"],
    "it": ["Sinceramente?", "Un feedback veloce:", "Sono cliente Finora da {years} anni.", "Da piccolo imprenditore:",
           "Cliente da tanto tempo.", "A dire il vero,", "Allora,"],
    "fr": ["Honnêtement ?", "Petit retour rapide :", "Je suis client Finora depuis {years} ans.",
           "En tant que petit entrepreneur :", "Client depuis longtemps.", "Pour être honnête,", "Alors,"],
    "ro": ["Sincer?", "Pe scurt:", "Sunt client Finora de {years} ani.", "Ca proprietar de firmă mică:",
           "Client de multă vreme.", "Să fiu sincer,", "Deci,"],
}
NEGATIVE_OPENERS = {
    "en": ["Where do I start.", "Oh dear.", "Not impressed."],
    "it": ["Da dove comincio.", "Lasciamo perdere.", "Non ci siamo."],
    "fr": ["Par où commencer.", "Bon.", "Pas terrible."],
    "ro": ["De unde să încep.", "Of.", "Nu e bine."],
}
MIXED_OPENERS = {
    "en": ["Mixed feelings.", "Good and bad."],
    "it": ["Sentimenti contrastanti.", "Luci e ombre."],
    "fr": ["Avis mitigé.", "Du bon et du moins bon."],
    "ro": ["Păreri împărțite.", "Și bune, și rele."],
}
CONTRAST = {
    "en": ["But", "However,", "That said,", "On the other hand,", "Still,", "Then again,"],
    "it": ["Ma", "Però", "Tuttavia,", "D'altro canto,", "Detto ciò,", "Eppure"],
    "fr": ["Mais", "Par contre,", "En revanche,", "Cela dit,", "Pourtant,", "Néanmoins,"],
    "ro": ["Dar", "Totuși,", "Pe de altă parte,", "Cu toate acestea,", "Doar că", "În schimb,"],
}
ADDITIVE = {
    "en": ["Also,", "On top of that,", "And", "Plus,", "What's more,", "", ""],
    "it": ["Inoltre,", "E poi", "Per di più,", "Oltretutto,", "", ""],
    "fr": ["De plus,", "Et puis", "En plus,", "Sans compter que", "", ""],
    "ro": ["În plus,", "Și pe deasupra,", "Mai mult,", "Pe lângă asta,", "", ""],
}
CLOSERS = {
    -1: {
        "en": ["Please fix this.", "Very disappointed.", "Thinking about switching banks.", "Sort it out, please.",
               "Not acceptable.", "Really frustrating.", "I expected better from Finora.", "Fix this and I'll stay."],
        "it": ["Sistemate, per favore.", "Molto deluso.", "Sto pensando di cambiare banca.", "Inaccettabile.",
               "Davvero frustrante.", "Mi aspettavo di più da Finora.", "Risolvete e resto."],
        "fr": ["Merci de corriger ça.", "Très déçu.", "Je pense changer de banque.", "Inacceptable.",
               "Vraiment frustrant.", "J'attendais mieux de Finora.", "Corrigez ça et je reste."],
        "ro": ["Vă rog să rezolvați.", "Foarte dezamăgit.", "Mă gândesc să schimb banca.", "Inacceptabil.",
               "Chiar frustrant.", "Mă așteptam la mai mult de la Finora.", "Rezolvați asta și rămân."],
    },
    1: {
        "en": ["Keep it up!", "Thanks!", "Would definitely recommend.", "Great job, team.", "Very happy so far.",
               "10/10."],
        "it": ["Continuate così!", "Grazie!", "Lo consiglio senz'altro.", "Ottimo lavoro.",
               "Per ora molto soddisfatto.", "Dieci e lode."],
        "fr": ["Continuez comme ça !", "Merci !", "Je recommande sans hésiter.", "Bravo à l'équipe.",
               "Très satisfait pour l'instant.", "10/10."],
        "ro": ["Continuați tot așa!", "Mulțumesc!", "Recomand cu încredere.", "Bravo echipei.",
               "Deocamdată foarte mulțumit.", "Nota 10."],
    },
    0: {
        "en": ["Fix this and you'd get a 10.", "Otherwise I'm happy.", "Still, I'm staying for now.", "Almost perfect.",
               "Is this on the roadmap?", "Thanks."],
        "it": ["Sistemate questo e vi do 10.", "Per il resto sono contento.", "Per ora resto.", "Quasi perfetto.",
               "È previsto nella roadmap?", "Grazie."],
        "fr": ["Corrigez ça et vous aurez 10.", "Sinon je suis content.", "Je reste pour l'instant.",
               "Presque parfait.", "Est-ce prévu dans la feuille de route ?", "Merci."],
        "ro": ["Rezolvați asta și primiți nota 10.", "În rest sunt mulțumit.", "Deocamdată rămân.",
               "Aproape perfect.", "E în plan?", "Mulțumim."],
    },
}
# Short follow-on sentences that vary otherwise identical answers.
TAILS = {
    -1: {
        "en": ["Since {month}.", "Second time this month.", "It happened again yesterday.", "Every single time.",
               "Still the case today.", "This has been going on for weeks.", "Not the first time either.",
               "Same story last month."],
        "it": ["Da {month}.", "Seconda volta questo mese.", "È successo di nuovo ieri.", "Ogni singola volta.",
               "Ancora oggi è così.", "Va avanti così da settimane.", "E non è la prima volta.",
               "Stessa storia il mese scorso."],
        "fr": ["Depuis {month}.", "Deuxième fois ce mois-ci.", "Ça s'est encore produit hier.", "À chaque fois.",
               "Toujours pareil aujourd'hui.", "Ça dure depuis des semaines.", "Et ce n'est pas la première fois.",
               "Même histoire le mois dernier."],
        "ro": ["Din {month}.", "A doua oară luna asta.", "S-a întâmplat din nou ieri.", "De fiecare dată.",
               "Și azi e la fel.", "De săptămâni întregi e așa.", "Și nu e prima dată.",
               "Aceeași poveste luna trecută."],
    },
    1: {
        "en": ["Really.", "Since day one.", "Honestly impressed.", "Much better than my old bank.", "Love it."],
        "it": ["Davvero.", "Fin dal primo giorno.", "Sinceramente colpito.", "Molto meglio della mia vecchia banca.",
               "Lo adoro."],
        "fr": ["Vraiment.", "Depuis le premier jour.", "Franchement bluffé.", "Bien mieux que mon ancienne banque.",
               "J'adore."],
        "ro": ["Serios.", "Încă din prima zi.", "Sincer, impresionat.", "Mult mai bine decât vechea mea bancă.",
               "Îmi place mult."],
    },
}
EMOJI = {-1: [" 😡", " 🙄", " 👎", "!!"], 1: [" 👍", " 🙂", " ❤️", "!!"], 0: [" 🤷", " 🙂"]}
NON_ANSWERS = {
    "en": ["n/a", "N/A", "-", "nothing", "Nothing", "no comment", "No comment.", "none", "."],
    "it": ["niente", "nulla", "nessun commento", "-", "n/a"],
    "fr": ["rien", "Rien à signaler", "RAS", "-", "aucun commentaire"],
    "ro": ["nimic", "Nimic", "nu am", "-", "fără comentarii"],
}

# ------------------------------------------------------------------ ticket furniture

GREETINGS = {
    "en": ["Hi,", "Hello,", "Hi Finora team,", "Dear Sir or Madam,", "Hello support,", "Hey,"],
    "it": ["Buongiorno,", "Salve,", "Ciao,", "Gentile assistenza,", "Buonasera,"],
    "fr": ["Bonjour,", "Bonjour Madame, Monsieur,", "Bonsoir,", "Bonjour l'équipe Finora,"],
    "ro": ["Bună ziua,", "Bună,", "Stimate domn/doamnă,", "Salut,", "Bună seara,"],
}
REQUESTS = {
    "en": ["Can you please look into this?", "Please fix this as soon as possible.", "I need an answer today.",
           "What are you going to do about it?", "Could you check what happened?", "Please call me back."],
    "it": ["Potete verificare, per favore?", "Vi chiedo di risolvere il prima possibile.", "Ho bisogno di una risposta oggi.",
           "Cosa intendete fare?", "Potete controllare cosa è successo?", "Per favore richiamatemi."],
    "fr": ["Pouvez-vous regarder, s'il vous plaît ?", "Merci de corriger cela au plus vite.",
           "J'ai besoin d'une réponse aujourd'hui.", "Qu'allez-vous faire ?", "Pouvez-vous vérifier ce qui s'est passé ?",
           "Merci de me rappeler."],
    "ro": ["Puteți verifica, vă rog?", "Vă rog să rezolvați cât mai repede.", "Am nevoie de un răspuns azi.",
           "Ce aveți de gând să faceți?", "Puteți verifica ce s-a întâmplat?", "Vă rog să mă sunați."],
}
SIGNOFFS = {
    "en": ["Thanks,", "Regards,", "Best regards,", "Cheers,", "Kind regards,"],
    "it": ["Grazie,", "Cordiali saluti,", "Saluti,", "Grazie mille,"],
    "fr": ["Cordialement,", "Merci,", "Bien à vous,", "Merci d'avance,"],
    "ro": ["Mulțumesc,", "Cu stimă,", "O zi bună,", "Mulțumesc anticipat,"],
}
MOBILE_SIGNATURES = {
    "en": ["Sent from my iPhone", "Sent from my Galaxy", "Get Outlook for Android"],
    "it": ["Inviato da iPhone", "Inviato dal mio smartphone Samsung Galaxy", "Inviato da Outlook per Android"],
    "fr": ["Envoyé de mon iPhone", "Envoyé depuis mon appareil Galaxy", "Obtenir Outlook pour Android"],
    "ro": ["Trimis de pe iPhone-ul meu", "Trimis de pe Samsung Galaxy", "Trimis din Outlook pentru Android"],
}
LEGAL_FOOTERS = {
    "en": "CONFIDENTIALITY NOTICE: This e-mail and any attachments are confidential and intended solely for the "
    "addressee. If you have received it in error, please notify the sender and delete it.",
    "it": "Questo messaggio e i suoi allegati sono confidenziali e destinati esclusivamente al destinatario. Se lo "
    "avete ricevuto per errore, vi preghiamo di avvisare il mittente e di cancellarlo (Reg. UE 2016/679).",
    "fr": "Ce message et ses pièces jointes sont confidentiels et destinés exclusivement à leur destinataire. Si vous "
    "l'avez reçu par erreur, merci d'en avertir l'expéditeur et de le supprimer.",
    "ro": "Acest mesaj și atașamentele sale sunt confidențiale și destinate exclusiv destinatarului. Dacă l-ați primit "
    "din greșeală, vă rugăm să anunțați expeditorul și să îl ștergeți.",
}
# The support team's auto-reply macro: identical boilerplate that shows up quoted in many tickets.
AGENT_MACRO = {
    "en": "Thank you for contacting Finora Support. We have received your request (ref. {ref}) and one of our "
    "specialists will get back to you within 48 hours. In the meantime, you may find an answer in our Help Centre: "
    "https://help.finora.app\n\nKind regards,\nThe Finora Support Team",
    "it": "Grazie per aver contattato l'assistenza Finora. Abbiamo ricevuto la tua richiesta (rif. {ref}) e uno dei "
    "nostri specialisti ti risponderà entro 48 ore. Nel frattempo puoi trovare una risposta nel nostro Centro "
    "assistenza: https://help.finora.app/it\n\nCordiali saluti,\nIl team di assistenza Finora",
    "fr": "Merci d'avoir contacté le support Finora. Nous avons bien reçu votre demande (réf. {ref}) et un de nos "
    "conseillers vous répondra sous 48 heures. En attendant, vous trouverez peut-être une réponse dans notre centre "
    "d'aide : https://help.finora.app/fr\n\nCordialement,\nL'équipe support Finora",
    "ro": "Vă mulțumim că ați contactat echipa de suport Finora. Am primit solicitarea dumneavoastră (ref. {ref}) și "
    "unul dintre specialiștii noștri vă va răspunde în 48 de ore. Între timp, puteți găsi un răspuns în Centrul de "
    "ajutor: https://help.finora.app/ro\n\nCu stimă,\nEchipa de suport Finora",
}
AGENT_REPLIES = {
    "en": [
        "Hi {first},\n\nThanks for your patience. I've escalated this to our payments team and will update you as "
        "soon as I hear back.\n\nBest,\n{agent}\nFinora Support",
        "Hi {first},\n\nCould you please send us the transaction reference and a screenshot so we can "
        "investigate?\n\nThanks,\n{agent}",
    ],
    "it": [
        "Ciao {first},\n\ngrazie per la pazienza. Ho inoltrato la tua segnalazione al team pagamenti e ti aggiornerò "
        "appena possibile.\n\nUn saluto,\n{agent}\nAssistenza Finora",
        "Ciao {first},\n\npotresti inviarci il riferimento della transazione e uno screenshot, così possiamo "
        "verificare?\n\nGrazie,\n{agent}",
    ],
    "fr": [
        "Bonjour {first},\n\nMerci pour votre patience. J'ai transmis votre demande à notre équipe paiements et je "
        "reviens vers vous dès que possible.\n\nBien cordialement,\n{agent}\nSupport Finora",
        "Bonjour {first},\n\nPourriez-vous nous envoyer la référence de la transaction ainsi qu'une capture d'écran "
        "afin que nous puissions vérifier ?\n\nMerci,\n{agent}",
    ],
    "ro": [
        "Bună ziua, {first},\n\nVă mulțumim pentru răbdare. Am transmis solicitarea echipei de plăți și revin cu "
        "noutăți cât mai curând.\n\nO zi bună,\n{agent}\nSuport Finora",
        "Bună ziua, {first},\n\nNe puteți trimite referința tranzacției și o captură de ecran, ca să putem "
        "verifica?\n\nMulțumim,\n{agent}",
    ],
}
FOLLOW_UPS = {
    "en": ["Any update on this?", "Still not resolved, this is getting ridiculous.", "I'm still waiting for an answer.",
           "Hello? Is anyone reading these?", "Following up again."],
    "it": ["Ci sono novità?", "Ancora niente, sta diventando ridicolo.", "Sto ancora aspettando una risposta.",
           "C'è qualcuno che legge questi messaggi?", "Vi scrivo di nuovo per sollecitare."],
    "fr": ["Des nouvelles ?", "Toujours pas résolu, ça devient ridicule.", "J'attends toujours une réponse.",
           "Quelqu'un lit ces messages ?", "Je relance encore une fois."],
    "ro": ["Aveți vreo noutate?", "Tot nerezolvat, devine ridicol.", "Încă aștept un răspuns.",
           "Citește cineva mesajele astea?", "Revin din nou cu acest mesaj."],
}
# Personal details a customer writes into a ticket: PII the prepare stage must redact.
PII_LINES = {
    "card": {"en": "My card number is {card}.", "it": "Il numero della carta è {card}.",
             "fr": "Mon numéro de carte est le {card}.", "ro": "Numărul cardului este {card}."},
    "iban": {"en": "My IBAN is {iban}.", "it": "Il mio IBAN è {iban}.", "fr": "Mon IBAN : {iban}.",
             "ro": "IBAN-ul meu este {iban}."},
    "phone": {"en": "You can reach me on {phone}.", "it": "Potete chiamarmi al {phone}.",
              "fr": "Vous pouvez me joindre au {phone}.", "ro": "Mă puteți suna la {phone}."},
    "email": {"en": "Please reply to {email} rather than my work address.", "it": "Rispondetemi a {email}, per favore.",
              "fr": "Merci de me répondre à {email}.", "ro": "Vă rog să-mi răspundeți la {email}."},
    "ip": {"en": "There was a login attempt from IP {ip}, which is not me.",
           "it": "C'è stato un tentativo di accesso dall'IP {ip}, che non sono io.",
           "fr": "Il y a eu une tentative de connexion depuis l'IP {ip}, ce n'est pas moi.",
           "ro": "A existat o încercare de autentificare de pe IP-ul {ip}, care nu sunt eu."},
    "txid": {"en": "Transaction reference: {txid}.", "it": "Riferimento transazione: {txid}.",
             "fr": "Référence de l'opération : {txid}.", "ro": "Referința tranzacției: {txid}."},
    "error": {"en": "The app shows error code {code}.", "it": "L'app mostra il codice di errore {code}.",
              "fr": "L'appli affiche le code d'erreur {code}.", "ro": "Aplicația afișează codul de eroare {code}."},
    "url": {"en": "Screenshot here: {url}", "it": "Screenshot qui: {url}", "fr": "Capture d'écran ici : {url}",
            "ro": "Captura de ecran aici: {url}"},
}
PII_FOR_THEME = {
    "double_charge": ["card", "txid", "iban"],
    "app_crash": ["ip", "error", "url"],
    "slow_support": ["phone", "email"],
    "card_delivery": ["phone", "card"],
    "price_fees": ["txid", "iban"],
    "transfer_issues": ["iban", "txid"],
    "refund_slow": ["card", "txid", "iban"],
    "praise_app": ["url"],
    "praise_staff": ["phone"],
    "integration": ["email", "url"],
}

COMPANY_FORMS = {
    "en": "{last} & Co. Ltd",
    "it": "{last} & Figli S.r.l.",
    "fr": "{last} & Associés SARL",
    "ro": "{last} & Asociații SRL",
}
FIRST_NAMES = {
    "en": ["John", "Sarah", "Michael", "Emma", "David", "Laura", "James", "Olivia", "Daniel", "Sophie", "Chris",
           "Hannah", "Liam", "Grace", "Ryan", "Aoife", "Conor", "Niamh"],
    "it": ["Mario", "Giulia", "Luca", "Francesca", "Alessandro", "Chiara", "Matteo", "Sara", "Davide", "Elena",
           "Marco", "Valentina", "Giorgio", "Federica", "Andrea", "Niccolò"],
    "fr": ["Jean", "Marie", "Pierre", "Camille", "Nicolas", "Julie", "Thomas", "Claire", "Antoine", "Émilie",
           "Louis", "Chloé", "Hugo", "Léa", "François", "Hélène"],
    "ro": ["Andrei", "Ioana", "Mihai", "Elena", "Alexandru", "Maria", "Ștefan", "Ana", "Cristian", "Andreea",
           "Bogdan", "Raluca", "Vlad", "Alina", "Radu", "Cătălina"],
    "de": ["Lukas", "Anna", "Jonas", "Lea", "Felix", "Sophie"],
    "es": ["Javier", "Lucía", "Carlos", "Marta", "Pablo", "Elena"],
}
LAST_NAMES = {
    "en": ["Smith", "Johnson", "Brown", "Taylor", "Wilson", "Davies", "Evans", "Murphy", "O'Brien", "Walsh",
           "Clarke", "Hughes", "Patel", "Kelly", "Wright"],
    "it": ["Rossi", "Bianchi", "Russo", "Ferrari", "Esposito", "Romano", "Colombo", "Ricci", "Marino", "Greco",
           "Bruno", "Gallo", "Conti", "De Luca", "Costa"],
    "fr": ["Dupont", "Martin", "Bernard", "Dubois", "Lefèvre", "Moreau", "Laurent", "Girard", "Roux", "Fournier",
           "Lambert", "Mercier", "Faure", "Rousseau", "Blanc"],
    "ro": ["Popescu", "Ionescu", "Popa", "Dumitru", "Stan", "Stoica", "Gheorghe", "Constantin", "Munteanu", "Rusu",
           "Matei", "Marin", "Lungu", "Ciobanu", "Tudor"],
    "de": ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Becker"],
    "es": ["García", "Martínez", "López", "Sánchez", "Pérez", "Gómez"],
}
AGENTS = {
    "en": ["Sarah", "James", "Priya", "Tom", "Olivia"],
    "it": ["Giulia", "Marco", "Chiara", "Luca"],
    "fr": ["Sophie", "Julien", "Camille", "Nicolas"],
    "ro": ["Elena", "Andrei", "Ioana", "Mihai"],
}
MERCHANTS = {
    "en": ["Amazon", "Marks & Spencer", "Tesco", "Uber Eats", "Booking.com", "Ryanair", "H&M", "Deliveroo"],
    "it": ["Amazon", "Esselunga", "Zalando", "Trenitalia", "IKEA", "Booking.com", "H&M", "Glovo"],
    "fr": ["Amazon", "Fnac", "Carrefour", "SNCF Connect", "Decathlon", "Booking.com", "H&M", "Leroy Merlin"],
    "ro": ["eMAG", "Kaufland", "Altex", "Glovo", "Bolt", "Booking.com", "H&M", "Dedeman"],
}
MONTHS = {
    "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"],
    "it": ["gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre",
           "novembre", "dicembre"],
    "fr": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre"],
    "ro": ["ianuarie", "februarie", "martie", "aprilie", "mai", "iunie", "iulie", "august", "septembrie",
           "octombrie", "noiembrie", "decembrie"],
}
WEEKDAYS = {
    "en": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
    "it": ["lun", "mar", "mer", "gio", "ven", "sab", "dom"],
    "fr": ["lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."],
    "ro": ["luni", "marți", "miercuri", "joi", "vineri", "sâmbătă", "duminică"],
}
COUNTRIES = {
    "en": [("GB", 0.7), ("IE", 0.3)],
    "it": [("IT", 1.0)],
    "fr": [("FR", 0.8), ("BE", 0.2)],
    "ro": [("RO", 1.0)],
    "de": [("DE", 0.7), ("AT", 0.3)],
    "es": [("ES", 1.0)],
}
EMAIL_DOMAINS = {
    "en": ["gmail.com", "outlook.com", "yahoo.co.uk", "icloud.com", "eircom.net"],
    "it": ["gmail.com", "libero.it", "hotmail.it", "virgilio.it"],
    "fr": ["gmail.com", "orange.fr", "free.fr", "laposte.net"],
    "ro": ["gmail.com", "yahoo.com", "yahoo.ro"],
    "de": ["gmx.de", "web.de"],
    "es": ["gmail.com", "hotmail.es"],
}
PLANS = {
    "smb": [("Starter", 0.5), ("Plus", 0.35), ("Pro", 0.15)],
    "mid": [("Plus", 0.3), ("Pro", 0.5), ("Business", 0.2)],
    "enterprise": [("Business", 0.4), ("Enterprise", 0.6)],
}
PLAN_PRICE = {"Starter": 9.99, "Plus": 19.99, "Pro": 49.0, "Business": 199.0, "Enterprise": 890.0}
# Words that keep their capital letter after a connector ("But Finora ...").
PROPER_WORDS = {"Finora", "Face", "Apple", "Android", "Revolut", "Xero", "QuickBooks", "SEPA", "API", "CSV", "SSO"}
APP_VERSIONS = ["5.12.0", "5.12.1", "5.13.0", "5.13.2"]
BANKING77_THEMES = {
    "transaction_charged_twice": "double_charge",
    "extra_charge_on_statement": "double_charge",
    "card_arrival": "card_delivery",
    "card_delivery_estimate": "card_delivery",
    "declined_transfer": "transfer_issues",
    "failed_transfer": "transfer_issues",
    "pending_transfer": "transfer_issues",
    "transfer_not_received_by_recipient": "transfer_issues",
    "Refund_not_showing_up": "refund_slow",
    "transfer_fee_charged": "price_fees",
    "card_payment_fee_charged": "price_fees",
}
BANKING77_PER_INTENT = 25


# ------------------------------------------------------------------ identifiers with valid checksums


def luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    """A card number of `length` digits starting with `prefix` whose Luhn check digit is correct."""
    body = prefix + "".join(str(rng.randrange(10)) for _ in range(length - len(prefix) - 1))
    total = 0
    # Double every second digit counting from the right, the check digit being position 0.
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return body + str((10 - total % 10) % 10)


IBAN_BBAN = {  # country -> (bank code choices, number of digits after the bank code)
    "GB": (["NWBK", "BARC", "HBUK", "LOYD"], 14),
    "IE": (["AIBK", "BOFI"], 14),
    "IT": (["X", "K", "Z"], 22),
    "FR": ([""], 23),
    "BE": ([""], 12),
    "RO": (["BTRL", "RNCB", "BRDE", "INGB"], 16),
    "DE": ([""], 18),
    "AT": ([""], 16),
    "ES": ([""], 20),
}


def make_iban(country: str, rng: random.Random) -> str:
    """An IBAN with a correct ISO 13616 mod-97 check number (bank codes are plausible, not real)."""
    banks, n_digits = IBAN_BBAN[country]
    bban = rng.choice(banks) + "".join(str(rng.randrange(10)) for _ in range(n_digits))
    rearranged = bban + country + "00"
    numeric = "".join(str(int(c, 36)) for c in rearranged)
    check = 98 - int(numeric) % 97
    return f"{country}{check:02d}{bban}"


def format_iban(iban: str, rng: random.Random) -> str:
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4)) if rng.random() < 0.7 else iban


def make_phone(country: str, rng: random.Random) -> str:
    def digits(n: int) -> str:
        return "".join(str(rng.randrange(10)) for _ in range(n))

    if country == "IT":
        return f"+39 3{digits(2)} {digits(3)} {digits(4)}"
    if country == "RO":
        return f"+40 7{digits(2)} {digits(3)} {digits(3)}"
    if country in ("FR", "BE"):
        if country == "BE":
            return f"+32 4{digits(2)} {digits(2)} {digits(2)} {digits(2)}"
        return f"+33 {rng.choice('67')} {digits(2)} {digits(2)} {digits(2)} {digits(2)}"
    if country == "IE":
        return f"+353 8{rng.choice('3567')} {digits(3)} {digits(4)}"
    if country in ("DE", "AT"):
        return f"+49 15{digits(1)} {digits(8)}"
    if country == "ES":
        return f"+34 6{digits(2)} {digits(3)} {digits(3)}"
    return f"+44 7{digits(3)} {digits(6)}"


def ascii_fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower().replace("'", "").replace(" ", "")


# ------------------------------------------------------------------ data model


@dataclass
class Customer:
    customer_id: str
    language: str
    country: str
    segment: str
    plan: str
    revenue: float
    signup_at: datetime
    first: str
    last: str
    email: str
    phone: str
    experiences: list[str]
    has_integration: bool
    churned: bool = False
    churned_at: datetime | None = None


@dataclass
class Doc:
    source: str  # survey | ticket
    customer: Customer | None
    language: str
    themes: list[str]
    created_at: datetime
    text: str
    subject: str | None = None
    is_non_answer: bool = False
    extra: dict = field(default_factory=dict)


def weighted(rng: random.Random, pairs: list[tuple[str, float]]) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def random_time(rng: random.Random, start: datetime, end: datetime) -> datetime:
    span = int((end - start).total_seconds())
    return start + timedelta(seconds=rng.randrange(max(span, 1)))


def iso(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


# ------------------------------------------------------------------ customers


def make_customers(rng: random.Random) -> list[Customer]:
    """Customers with a language, segment, plan and the themes they experience."""
    n_other = sum(N_OTHER_LANG.values())
    n_main = N_CUSTOMERS - n_other
    # Exact quotas (not independent draws) so the language mix is as documented.
    langs = [lang for lang, w in LANG_WEIGHTS.items() for _ in range(round(w * n_main))][:n_main]
    langs += ["en"] * (n_main - len(langs))
    langs += [lang for lang, n in N_OTHER_LANG.items() for _ in range(n)]
    rng.shuffle(langs)
    negative_positive = [(k, t.weight) for k, t in THEMES.items() if t.weight > 0]
    customers = []
    for i, lang in enumerate(langs):
        segment = weighted(rng, list(SEGMENT_WEIGHTS.items()))
        plan = weighted(rng, PLANS[segment])
        seats = {"smb": 1.0, "mid": 2.5, "enterprise": 4.0}[segment]
        revenue = round(PLAN_PRICE[plan] * seats * rng.lognormvariate(0, 0.35), 2)
        country = weighted(rng, COUNTRIES[lang])
        first, last = rng.choice(FIRST_NAMES[lang]), rng.choice(LAST_NAMES[lang])
        sep = rng.choice([".", "_", ""])
        email = f"{ascii_fold(first)}{sep}{ascii_fold(last)}{rng.choice(['', '', str(rng.randrange(10, 99))])}"
        email += "@" + rng.choice(EMAIL_DOMAINS[lang])
        n_exp = 1 if rng.random() < 0.55 else 2
        experiences: list[str] = []
        while len(experiences) < n_exp:
            key = weighted(rng, negative_positive)
            if key not in experiences:
                experiences.append(key)
        customers.append(
            Customer(
                customer_id=f"C{10001 + i}",
                language=lang,
                country=country,
                segment=segment,
                plan=plan,
                revenue=revenue,
                signup_at=random_time(rng, datetime(2022, 1, 10, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC)),
                first=first,
                last=last,
                email=email,
                phone=make_phone(country, rng),
                experiences=experiences,
                has_integration=rng.random() < INTEGRATION_PROPENSITY[segment],
            )
        )
    return customers


def doc_themes(rng: random.Random, c: Customer, second_p: float, allowed: set[str] | None = None) -> list[str]:
    """1-2 themes from the customer's experiences (80%) or anything else, plus integration for some."""
    pool = [(k, t.weight) for k, t in THEMES.items() if t.weight > 0 and (allowed is None or k in allowed)]

    def pick(exclude: list[str]) -> str:
        own = [k for k in c.experiences if k not in exclude and (allowed is None or k in allowed)]
        if own and rng.random() < 0.8:
            return rng.choice(own)
        while True:
            k = weighted(rng, pool)
            if k not in exclude:
                return k

    themes = [pick([])]
    if rng.random() < second_p:
        themes.append(pick(themes))
    # Integration is an extra topic, independent of the others, so it confounds only through segment.
    if c.has_integration and allowed is None and rng.random() < 0.5:
        themes.append("integration")
    return themes


# ------------------------------------------------------------------ text composition


def decap(sentence: str, lang: str) -> str:
    """Lower-case the first letter after a connector, unless it starts a name or an acronym."""
    if not sentence:
        return sentence
    first = sentence.split(" ", 1)[0].rstrip(",.:;")
    if sentence[0] == "{" or first in PROPER_WORDS or (len(first) > 1 and first.isupper()):
        return sentence
    if lang == "en" and (first == "I" or first.startswith("I'")):
        return sentence
    return sentence[0].lower() + sentence[1:]


def join_connector(joiner: str, sentence: str, lang: str) -> str:
    # French elides "que" before a vowel: "Sans compter qu'à chaque fois".
    if lang == "fr" and joiner.endswith(" que") and sentence[:1].lower() in "aeiouyhàâéèêîôû":
        return f"{joiner[:-1]}'{sentence}"
    return f"{joiner} {sentence}"


class Filler:
    """Fills the placeholders of a template with values that suit the customer."""

    def __init__(self, rng: random.Random, c: Customer, lang: str):
        self.rng, self.c, self.lang = rng, c, lang

    def amount(self) -> str:
        value = self.rng.choice([4.99, 9.99, 12.5, 19.99, 23.4, 37.8, 49.0, 64.9, 120.0, 249.99])
        if self.lang == "ro":
            return f"{value * 5:.2f}".replace(".", ",") + " lei"
        if self.lang == "en":
            return f"€{value:.2f}"
        return f"{value:.2f}".replace(".", ",") + " €"

    def __call__(self, template: str) -> str:
        lang = self.lang if self.lang in AGENTS else "en"
        values = {
            "amount": self.amount(),
            "days": str(self.rng.randint(3, 21)),
            "weeks": str(self.rng.randint(2, 6)),
            "agent": self.rng.choice(AGENTS[lang]),
            "merchant": self.rng.choice(MERCHANTS[lang]),
            "plan": self.c.plan,
            "month": MONTHS[lang][self.rng.randint(6, 9)],
            "version": self.rng.choice(APP_VERSIONS),
            "years": str(self.rng.randint(2, 6)),
        }
        return template.format(**values)


def overall_polarity(themes: list[str]) -> int:
    pols = {THEMES[t].polarity for t in themes if THEMES[t].polarity != 0}
    if pols == {-1}:
        return -1
    if pols == {1}:
        return 1
    return 0


def compose_comment(rng: random.Random, c: Customer, themes: list[str]) -> str:
    """A survey answer: optional opener, one sentence per theme joined by connectors, optional closer."""
    lang = c.language
    fill = Filler(rng, c, lang)
    if lang in OTHER_LANG_PHRASES:
        return OTHER_LANG_PHRASES[lang][themes[0]]
    parts: list[str] = []
    polarity = overall_polarity(themes)
    if rng.random() < 0.3:
        extra = {0: MIXED_OPENERS[lang] if len(themes) > 1 else [], -1: NEGATIVE_OPENERS[lang], 1: []}[polarity]
        opener = rng.choice(OPENERS[lang] + extra)
        parts.append(fill(opener))
    prev_pol = None
    for t in themes:
        sentence = rng.choice(PHRASES[t][lang])
        pol = THEMES[t].polarity
        joiner = ""
        if parts and prev_pol is not None and not sentence.endswith("?"):
            joiner = rng.choice(CONTRAST[lang]) if pol != prev_pol and 0 not in (pol, prev_pol) else rng.choice(
                ADDITIVE[lang]
            )
        elif parts and parts[-1].endswith(","):
            joiner = parts.pop()
        if joiner:
            sentence = join_connector(joiner, decap(sentence, lang), lang)
        parts.append(fill(sentence))
        if pol != 0 and rng.random() < 0.4:
            parts.append(fill(rng.choice(TAILS[pol][lang])))
        prev_pol = pol
    if rng.random() < 0.45:
        parts.append(fill(rng.choice(CLOSERS[polarity][lang])))
    text = " ".join(parts)
    if rng.random() < 0.1:
        text = text.rstrip(".!") + rng.choice(EMOJI[polarity])
    if rng.random() < 0.02:
        text = text.replace(". ", ".\n", 1)
    if rng.random() < 0.08:  # typed in a hurry
        text = text.lower().rstrip(".")
    return text


# ------------------------------------------------------------------ tickets


class TicketWriter:
    """Builds realistic, messy ticket bodies: greetings, PII, quoted chains, signatures, HTML."""

    def __init__(self, rng: random.Random, banking77: dict[str, str]):
        self.rng = rng
        self.banking77: dict[str, list[str]] = {}
        for text, theme in banking77.items():
            self.banking77.setdefault(theme, []).append(text)

    def pii(self, kind: str, c: Customer, lang: str) -> str:
        rng = self.rng
        values = {
            "card": self.card(),
            "iban": format_iban(make_iban(c.country if c.country in IBAN_BBAN else "GB", rng), rng),
            "phone": c.phone,
            "email": c.email,
            "ip": f"{rng.randint(31, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
            "txid": "TX-" + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(10)),
            "code": rng.choice(["E-4012", "ERR_AUTH_401", "E-5003", "NET_TIMEOUT", "0x80070005"]),
            "url": rng.choice(
                [
                    "https://imgur.com/a/" + "".join(rng.choice("abcdefghkmnpqrstuvwxyz0123456789") for _ in range(7)),
                    "https://drive.google.com/file/d/1" + "".join(rng.choice("ABCDEFabcdef0123456789") for _ in range(20)),
                    "https://www.dropbox.com/s/" + "".join(rng.choice("abcdefghkmnpqrstuvwxyz0123456789") for _ in range(12))
                    + "/screenshot.png?dl=0",
                ]
            ),
        }
        return PII_LINES[kind][lang].format(**values)

    def card(self) -> str:
        rng = self.rng
        number = luhn_complete(rng.choice(["4", "51", "53", "55"]), 16, rng)
        style = rng.random()
        if style < 0.6:
            return " ".join(number[i : i + 4] for i in range(0, 16, 4))
        if style < 0.9:
            return number
        return "-".join(number[i : i + 4] for i in range(0, 16, 4))

    def core(self, c: Customer, lang: str, themes: list[str], fill: Filler) -> list[str]:
        sentences = []
        for t in themes:
            b77 = self.banking77.get(t, []) if lang == "en" else []
            if b77 and self.rng.random() < 0.35:
                sentences.append(self.rng.choice(b77))
            else:
                sentences.append(fill(self.rng.choice(PHRASES[t][lang])))
        if self.rng.random() < 0.35:  # a second sentence on the main theme
            extra = fill(self.rng.choice(PHRASES[themes[0]][lang]))
            if extra not in sentences:
                sentences.append(extra)
        return sentences

    def quote_header(self, lang: str, when: datetime, sender: str) -> str:
        wd = WEEKDAYS[lang][when.weekday()]
        hm = when.strftime("%H:%M")
        month = MONTHS[lang][when.month - 1]
        if lang == "it":
            return f"Il giorno {wd} {when.day} {month} {when.year} alle ore {hm} {sender} ha scritto:"
        if lang == "fr":
            return f"Le {wd} {when.day} {month} {when.year} à {hm}, {sender} a écrit :"
        if lang == "ro":
            return f"În data de {wd}, {when.day} {month} {when.year}, la {hm}, {sender} a scris:"
        return f"On {wd}, {when.day} {month[:3]} {when.year} at {hm}, {sender} wrote:"

    def outlook_header(self, lang: str, sent: datetime, sender: str, to: str, subject: str) -> str:
        """An Outlook-style forwarded header, in English or in the client's language."""
        if lang == "en" or self.rng.random() < 0.5:
            return (f"-----Original Message-----\nFrom: {sender}\nSent: {sent.strftime('%A, %d %B %Y %H:%M')}\n"
                    f"To: {to}\nSubject: RE: {subject}")
        labels = {
            "it": ("-----Messaggio originale-----", "Da", "Inviato", "A", "Oggetto"),
            "fr": ("-----Message d'origine-----", "De", "Envoyé", "À", "Objet"),
            "ro": ("-----Mesaj original-----", "De la", "Trimis", "Către", "Subiect"),
        }[lang]
        colon = " :" if lang == "fr" else ":"
        when = f"{sent.day} {MONTHS[lang][sent.month - 1]} {sent.year} {sent.strftime('%H:%M')}"
        return (f"{labels[0]}\n{labels[1]}{colon} {sender}\n{labels[2]}{colon} {when}\n{labels[3]}{colon} {to}\n"
                f"{labels[4]}{colon} RE: {subject}")

    def body(self, c: Customer, themes: list[str], channel: str, created: datetime, subject: str, ref: str) -> str:
        rng, lang = self.rng, c.language
        fill = Filler(rng, c, lang)
        core = self.core(c, lang, themes, fill)
        pii_kinds = [k for t in themes for k in PII_FOR_THEME[t]]
        details = [self.pii(k, c, lang) for k in rng.sample(pii_kinds, k=min(len(pii_kinds), rng.choice([0, 1, 1, 2])))]
        if rng.random() < 0.25 and "phone" not in pii_kinds:
            details.append(self.pii("phone", c, lang))
        if channel in ("chat", "in_app"):
            # Chat messages: short, no greeting or signature.
            text = " ".join(core + details[:1])
            return text if rng.random() < 0.7 else text.lower()
        request = rng.choice(REQUESTS[lang])
        name = f"{c.first} {c.last}" if rng.random() < 0.8 else c.first
        paragraphs = [rng.choice(GREETINGS[lang]), " ".join(core), " ".join(details + [request]).strip()]
        signoff = f"{rng.choice(SIGNOFFS[lang])}\n{name}"
        if c.segment != "smb" and rng.random() < 0.5:
            signoff += "\n" + COMPANY_FORMS[lang].format(last=c.last)
        if channel == "web_form":
            return "\n\n".join([p for p in paragraphs if p] + [signoff])
        # E-mail: maybe a follow-up on top of a quoted chain, signatures, footers and HTML.
        chain = rng.random() if overall_polarity(themes) <= 0 else 1.0
        sender = "Finora Support <support@finora.app>"
        if chain < 0.30:
            top = [rng.choice(FOLLOW_UPS[lang]), " ".join(core[:1]), signoff]
            if rng.random() < 0.4:
                top.append(rng.choice(MOBILE_SIGNATURES[lang]))
            earlier = created - timedelta(days=rng.randint(2, 9), minutes=rng.randint(0, 600))
            reply = (
                AGENT_MACRO[lang].format(ref=ref)
                if rng.random() < 0.7
                else rng.choice(AGENT_REPLIES[lang]).format(first=c.first, agent=rng.choice(AGENTS[lang]))
            )
            quoted = "\n".join("> " + line if line else ">" for line in reply.split("\n"))
            original = "\n\n".join([p for p in paragraphs if p] + [signoff])
            quoted_original = "\n".join(">> " + line if line else ">>" for line in original.split("\n"))
            header2 = "> " + self.quote_header(lang, earlier - timedelta(hours=1), f"{c.first} {c.last} <{c.email}>")
            text = "\n\n".join(top) + "\n\n" + self.quote_header(lang, earlier, sender) + "\n" + quoted
            text += "\n>\n" + header2 + "\n" + quoted_original
        elif chain < 0.40:
            top = [rng.choice(FOLLOW_UPS[lang]), " ".join(core), signoff]
            sent = created - timedelta(days=rng.randint(2, 9), minutes=rng.randint(0, 600))
            text = "\n\n".join(top) + "\n\n" + self.outlook_header(lang, sent, sender, c.email, subject)
            text += "\n\n" + AGENT_MACRO[lang].format(ref=ref)
        else:
            text = "\n\n".join([p for p in paragraphs if p] + [signoff])
            if rng.random() < 0.3:
                text += "\n\n" + rng.choice(MOBILE_SIGNATURES[lang])
        if c.segment != "smb" and rng.random() < 0.35:
            text += "\n\n" + LEGAL_FOOTERS[lang]
        if rng.random() < 0.3:
            text = to_html(text, rng)
        return text


def to_html(text: str, rng: random.Random) -> str:
    """Render a plain e-mail as the HTML a mail client would send (escaped &, <br>, quoted blocks)."""
    out = []
    quote_style = rng.random() < 0.6  # some clients send ">" lines, others a <blockquote>
    for para in text.split("\n\n"):
        lines = para.split("\n")
        quoted = [line for line in lines if line.startswith(">")]
        if quote_style and quoted:
            head = [line for line in lines if not line.startswith(">")]
            inner = "<br>".join(html.escape(line.lstrip("> "), quote=False) for line in quoted)
            out.append("<p>" + "<br>".join(html.escape(line, quote=False) for line in head) + "</p>")
            out.append(f'<blockquote style="margin:0 0 0 .8ex;border-left:1px #ccc solid">{inner}</blockquote>')
        else:
            out.append("<p>" + "<br>".join(html.escape(line, quote=False) for line in lines) + "</p>")
    body = "\n".join(out)
    if rng.random() < 0.5:
        body = body.replace(" ", "&nbsp;", 1)
    return f'<html><body><div dir="ltr">{body}</div></body></html>'


# ------------------------------------------------------------------ outcomes


def latent_score(rng: random.Random, themes: list[str], base: float, noise: float, attr: str) -> float:
    return base + sum(getattr(THEMES[t], attr) for t in themes) + rng.gauss(0, noise)


def plant_churn(rng: random.Random, customers: list[Customer], docs: list[Doc]) -> None:
    """Customer-level Bernoulli churn from the themes the customer mentioned anywhere."""
    mentioned: dict[str, set[str]] = {}
    last_doc: dict[str, datetime] = {}
    for d in docs:
        if d.customer is None:
            continue
        cid = d.customer.customer_id
        mentioned.setdefault(cid, set()).update(d.themes)
        last_doc[cid] = max(last_doc.get(cid, d.created_at), d.created_at)
    for c in customers:
        p = churn_probability(c.segment, mentioned.get(c.customer_id, set()))
        c.churned = rng.random() < p
        if c.churned:
            start = last_doc.get(c.customer_id, WINDOW_START) + timedelta(days=1)
            end = min(start + timedelta(days=45), WINDOW_END)
            c.churned_at = random_time(rng, min(start, end), end) if start < end else end


def churn_probability(segment: str, themes: set[str]) -> float:
    driver = any(THEMES[t].churn_driver for t in themes)
    return min(0.95, BASELINE_CHURN * SEGMENT_CHURN_MULTIPLIER[segment] * (DRIVER_CHURN_MULTIPLIER if driver else 1.0))


# ------------------------------------------------------------------ generation


def load_banking77_subset() -> dict[str, str]:
    """Vendored BANKING77 sentences (text -> our theme); empty when the subset file is absent."""
    if not BANKING77_SUBSET.exists():
        return {}
    frame = pd.read_csv(BANKING77_SUBSET)
    return dict(zip(frame["text"], frame["theme"], strict=True))


def extract_banking77(train_csv: Path, seed: int) -> None:
    """Select the BANKING77 intents that match our themes and write the small vendored subset."""
    frame = pd.read_csv(train_csv)
    frame = frame[frame["category"].isin(list(BANKING77_THEMES))]
    parts = [
        g.sample(n=min(BANKING77_PER_INTENT, len(g)), random_state=seed)
        for _, g in frame.groupby("category", sort=True)
    ]
    subset = pd.concat(parts).sort_values(["category", "text"])
    subset["theme"] = subset["category"].map(BANKING77_THEMES)
    BANKING77_SUBSET.parent.mkdir(parents=True, exist_ok=True)
    subset[["text", "category", "theme"]].to_csv(BANKING77_SUBSET, index=False, lineterminator="\n")


@dataclass
class Corpus:
    customers: list[Customer]
    surveys: list[dict]
    tickets: list[dict]
    labels: list[dict]
    bad_rows: list[dict]
    duplicates: dict


def generate(seed: int) -> Corpus:
    """Build the whole corpus in memory (deterministic for a seed)."""
    rng = random.Random(seed)
    customers = make_customers(rng)
    banking77 = load_banking77_subset()
    by_lang: dict[str, list[Customer]] = {}
    for c in customers:
        by_lang.setdefault(c.language, []).append(c)
    main_customers = [c for c in customers if c.language in LANG_WEIGHTS]
    # About 12% of customers never give feedback.
    silent = set(rng.sample([c.customer_id for c in main_customers], k=int(0.12 * len(main_customers))))
    active = [c for c in main_customers if c.customer_id not in silent]

    docs: list[Doc] = []
    # Surveys: out-of-set languages first (one answer each), then the rest.
    for lang in N_OTHER_LANG:
        allowed = set(OTHER_LANG_PHRASES[lang])
        for c in by_lang[lang]:
            themes = doc_themes(rng, c, 0.0, allowed)
            docs.append(Doc("survey", c, lang, themes, random_time(rng, WINDOW_START, WINDOW_END), ""))
    while sum(d.source == "survey" for d in docs) < N_SURVEYS:
        c = rng.choice(active)
        when = random_time(rng, WINDOW_START, WINDOW_END)
        if rng.random() < NON_ANSWER_SHARE:
            docs.append(Doc("survey", c, c.language, [], when, rng.choice(NON_ANSWERS[c.language]), is_non_answer=True))
        else:
            docs.append(Doc("survey", c, c.language, doc_themes(rng, c, 0.35), when, ""))
    # Tickets come mostly from customers with a problem.
    weights = [3.0 if any(THEMES[k].polarity < 0 for k in c.experiences) else 0.6 for c in active]
    for c in rng.choices(active, weights=weights, k=N_TICKETS):
        themes = doc_themes(rng, c, 0.2)
        if all(THEMES[t].polarity >= 0 for t in themes) and rng.random() < 0.6:
            neg = [k for k in c.experiences if THEMES[k].polarity < 0]
            pool = [(k, t.weight) for k, t in THEMES.items() if t.polarity < 0]
            themes = [neg[0] if neg else weighted(rng, pool)] + [t for t in themes if t == "integration"]
        docs.append(Doc("ticket", c, c.language, themes, random_time(rng, WINDOW_START, WINDOW_END), ""))

    for d in docs:
        if d.source == "survey" and not d.is_non_answer:
            d.text = compose_comment(rng, d.customer, d.themes)
    duplicates = plant_survey_duplicates(rng, docs)

    docs.sort(key=lambda d: (d.source, d.created_at, d.customer.customer_id))
    writer = TicketWriter(rng, banking77)
    surveys = [d for d in docs if d.source == "survey"]
    tickets = [d for d in docs if d.source == "ticket"]
    survey_rows = build_survey_rows(rng, surveys)
    ticket_rows = build_ticket_rows(rng, writer, tickets)
    duplicates.update(plant_ticket_duplicates(rng, tickets, ticket_rows))
    # A few anonymous answers (no customer id): valid rows whose customer is unknown.
    for row in rng.sample(survey_rows, k=6):
        row["customer_id"] = ""
        row["_doc"].customer = None
    plant_churn(rng, customers, surveys + tickets)
    assign_scores(rng, surveys, survey_rows, tickets, ticket_rows)
    survey_rows, ticket_rows, bad_rows = plant_bad_rows(rng, survey_rows, ticket_rows)
    labels = make_labels(survey_rows, ticket_rows)
    return Corpus(customers, survey_rows, ticket_rows, labels, bad_rows, duplicates)


def plant_survey_duplicates(rng: random.Random, docs: list[Doc]) -> dict:
    """Copy-pasted complaints: the same text from several customers, and lightly edited copies."""
    surveys = [d for d in docs if d.source == "survey" and not d.is_non_answer and d.language in LANG_WEIGHTS]
    negatives = [d for d in surveys if overall_polarity(d.themes) == -1 and len(d.text) > 40]
    sources = rng.sample(negatives, k=6)
    exact, near = [], []
    for i, src in enumerate(sources):
        same_lang = [d for d in surveys if d.language == src.language and d is not src and d not in sources]
        for target in rng.sample(same_lang, k=2):
            target.themes = list(src.themes)
            if i < 3:
                target.text = src.text
                exact.append(src.text)
            else:
                target.text = near_copy(rng, src.text)
                near.append(src.text)
    return {"survey_exact_copies": len(exact), "survey_near_copies": len(near)}


def near_copy(rng: random.Random, text: str) -> str:
    edits = [
        lambda t: t.rstrip(".") + "!!!",
        lambda t: t.upper() if len(t) < 120 else t + " !!",
        lambda t: t.replace(",", "", 1) + " Again.",
        lambda t: "+1 " + t,
        lambda t: t.replace(" ", "  ", 1).rstrip(".!?") + "...",
    ]
    return rng.choice(edits)(text)


def near_copy_body(rng: random.Random, body: str) -> str:
    """A resent e-mail: one small edit somewhere in the first lines."""
    edits = [
        lambda t: t.replace(". ", "!! ", 1),
        lambda t: t.replace(",", "", 1),
        lambda t: t.replace("\n\n", "\n\n\n", 1),
        lambda t: t.replace(" ", "  ", 2),
    ]
    return rng.choice(edits)(body)


def build_survey_rows(rng: random.Random, surveys: list[Doc]) -> list[dict]:
    rows = []
    for i, d in enumerate(surveys):
        c = d.customer
        survey = "onboarding" if (d.created_at - c.signup_at).days < 60 else rng.choice(["relationship", "post_support"])
        rows.append(
            {
                "response_id": f"R{200001 + i}",
                "customer_id": c.customer_id,
                "submitted_at": iso(d.created_at),
                "score": "",
                "comment": d.text,
                "survey": survey,
                "country": c.country,
                "platform": rng.choice(["ios", "ios", "android", "android", "web"]),
                "_doc": d,
            }
        )
    return rows


def build_ticket_rows(rng: random.Random, writer: TicketWriter, tickets: list[Doc]) -> list[dict]:
    rows = []
    for i, d in enumerate(tickets):
        c = d.customer
        ticket_id = f"TCK-{300001 + i}"
        channel = weighted(rng, [("email", 0.55), ("chat", 0.22), ("web_form", 0.15), ("in_app", 0.08)])
        lang = c.language
        generic = rng.random() < 0.12
        subject = rng.choice(GENERIC_SUBJECTS[lang] if generic else SUBJECTS[d.themes[0]][lang])
        if channel == "email" and rng.random() < 0.15:
            subject = rng.choice(["Re: ", "RE: ", "Fwd: ", "R: " if lang == "it" else "TR: "]) + subject
        body = writer.body(c, d.themes, channel, d.created_at, subject, f"#{ticket_id[4:]}")
        d.text, d.subject = body, subject
        # Slow-support tickets really are resolved later: realism, not a planted outcome effect.
        hours = rng.lognormvariate(3.2 if "slow_support" in d.themes else 2.6, 0.9)
        resolved = d.created_at + timedelta(hours=hours)
        priority = weighted(rng, [("low", 0.2), ("normal", 0.5), ("high", 0.22), ("urgent", 0.08)])
        if any(t in ("double_charge", "transfer_issues") for t in d.themes) and priority in ("low", "normal"):
            priority = rng.choice(["normal", "high"])
        rows.append(
            {
                "ticket_id": ticket_id,
                "customer_id": c.customer_id,
                "created_at": iso(d.created_at),
                "subject": subject,
                "body": body,
                "resolved_at": iso(resolved) if rng.random() > 0.1 and resolved < WINDOW_END else None,
                "csat": None,
                "channel": channel,
                "priority": priority,
                "_doc": d,
            }
        )
    return rows


def plant_ticket_duplicates(rng: random.Random, tickets: list[Doc], rows: list[dict]) -> dict:
    """The same customer sends the same complaint twice (exact), or edits it slightly and resends."""
    candidates = [r for r in rows if len(r["body"]) > 80 and r["channel"] in ("email", "web_form")]
    chosen = rng.sample(candidates, k=10)
    targets = rng.sample([r for r in rows if r not in chosen], k=10)
    for i, (src, dst) in enumerate(zip(chosen, targets, strict=True)):
        # Move the copy to the source's customer, a day later, with the same themes.
        d_src, d_dst = src["_doc"], dst["_doc"]
        d_dst.customer, d_dst.language, d_dst.themes = d_src.customer, d_src.language, list(d_src.themes)
        d_dst.created_at = d_src.created_at + timedelta(hours=rng.randint(2, 30))
        dst["customer_id"] = src["customer_id"]
        dst["created_at"] = iso(d_dst.created_at)
        dst["subject"] = src["subject"]
        dst["body"] = src["body"] if i < 5 else near_copy_body(rng, src["body"])
        if dst["resolved_at"] is not None and dst["resolved_at"] <= dst["created_at"]:
            dst["resolved_at"] = iso(d_dst.created_at + timedelta(hours=5))
        d_dst.text, d_dst.subject = dst["body"], dst["subject"]
    return {"ticket_exact_copies": 5, "ticket_near_copies": 5}


def assign_scores(rng, surveys, survey_rows, tickets, ticket_rows) -> None:
    for d, row in zip(surveys, survey_rows, strict=True):
        score = latent_score(rng, d.themes, NPS_BASE, NPS_NOISE, "nps_effect")
        row["score"] = str(int(min(10, max(0, round(score)))))
    for d, row in zip(tickets, ticket_rows, strict=True):
        if rng.random() < CSAT_MISSING_SHARE or row["resolved_at"] is None:
            continue
        score = latent_score(rng, d.themes, CSAT_BASE, CSAT_NOISE, "csat_effect")
        row["csat"] = int(min(5, max(1, round(score))))


def plant_bad_rows(rng, survey_rows, ticket_rows):
    """Insert deliberately broken rows (copies of real rows with one field broken) for quarantine."""
    bad: list[dict] = []

    def copy(rows: list[dict]) -> dict:
        src = rng.choice([r for r in rows if r["_doc"].customer is not None])
        return dict(src)

    survey_faults = [
        ("response_id", "", "missing id"),
        ("submitted_at", "31/13/2026", "unparseable date"),
        ("submitted_at", "yesterday", "unparseable date"),
        ("score", "11", "NPS out of range"),
        ("score", "-2", "NPS out of range"),
        ("comment", "", "empty comment"),
        ("response_id", None, "duplicate id"),
    ]
    for column, value, reason in survey_faults:
        row = copy(survey_rows)
        original = None
        if value is None:
            original = rng.choice(survey_rows)
            value = original["response_id"]
        if column != "response_id" or reason == "missing id":
            row["response_id"] = f"R{290001 + len(bad)}"
        row[column] = value
        row["_bad"] = reason
        bad.append({"file": "surveys.csv", "column": column, "reason": reason, "value": value, "row": row,
                    "original": original})
    ticket_faults = [
        ("ticket_id", None, "missing id"),
        ("created_at", "2026-13-45T99:00:00Z", "unparseable date"),
        ("csat", 9, "CSAT out of range"),
        ("ticket_id", "dup", "duplicate id"),
        ("body", "", "empty body"),
    ]
    for column, value, reason in ticket_faults:
        row = copy(ticket_rows)
        row["ticket_id"] = f"TCK-{390001 + len(bad)}"
        original = None
        if value == "dup":
            original = rng.choice(ticket_rows)
            value = original["ticket_id"]
        row[column] = value
        if column == "body":
            row["subject"] = ""
        row["_bad"] = reason
        bad.append({"file": "tickets.jsonl", "column": column, "reason": reason, "value": value, "row": row,
                    "original": original})
    # Insert at deterministic random positions (a duplicate id after its first occurrence, so that the copy is
    # the row a reader rejects); the row numbers are recorded afterwards.
    for b in bad:
        rows = survey_rows if b["file"] == "surveys.csv" else ticket_rows
        original = b.pop("original")
        first = 1 if original is None else next(i for i, r in enumerate(rows) if r is original) + 1
        rows.insert(rng.randrange(first, len(rows) + 1), b["row"])
    for rows in (survey_rows, ticket_rows):
        for i, row in enumerate(rows, start=1):
            row["_row"] = i
    for b in bad:
        b["row_number"] = b.pop("row")["_row"]
    return survey_rows, ticket_rows, bad


def make_labels(survey_rows: list[dict], ticket_rows: list[dict]) -> list[dict]:
    labels = []
    for source, rows, id_col in (("survey", survey_rows, "response_id"), ("ticket", ticket_rows, "ticket_id")):
        for row in rows:
            d: Doc = row["_doc"]
            labels.append(
                {
                    "source": source,
                    "row": row["_row"],
                    "source_id": row[id_col] or "",
                    "customer_id": row["customer_id"] or "",
                    "language": d.language,
                    "themes": ";".join(d.themes),
                    "is_non_answer": d.is_non_answer,
                    "is_bad_row": "_bad" in row,
                }
            )
    return labels


# ------------------------------------------------------------------ writing


SURVEY_COLUMNS = ["response_id", "customer_id", "submitted_at", "score", "comment", "survey", "country", "platform"]
TICKET_COLUMNS = ["ticket_id", "customer_id", "created_at", "subject", "body", "resolved_at", "csat", "channel",
                  "priority"]


def write_csv(path: Path, rows: list[dict], columns: list[str]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def write_jsonl(path: Path, rows: list[dict], columns: list[str]) -> None:
    lines = [json.dumps({k: row[k] for k in columns}, ensure_ascii=False) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def customers_frame(customers: list[Customer]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [c.customer_id for c in customers],
            "churned": pd.array([c.churned for c in customers], dtype="bool"),
            "churned_at": pd.to_datetime([c.churned_at for c in customers], utc=True).as_unit("us"),
            "segment": [c.segment for c in customers],
            "plan": [c.plan for c in customers],
            "revenue": [c.revenue for c in customers],
            "signup_at": pd.to_datetime([c.signup_at for c in customers], utc=True).as_unit("us"),
        }
    )


def reference_odds_ratios(cust: pd.DataFrame) -> dict:
    """Churn odds ratios per theme from one logistic regression adjusted for segment and all themes.

    A reference for the outcomes stage: drivers should stand out, integration should not once adjusted.
    """
    import numpy as np
    import statsmodels.api as sm

    design = pd.DataFrame({k: cust["themes"].apply(lambda s, k=k: k in s).astype(float) for k in THEMES})
    design = design.join(pd.get_dummies(cust["segment"], dtype=float).drop(columns="smb"))
    design = sm.add_constant(design)
    fit = sm.Logit(cust["churned"].astype(float), design).fit(disp=0)
    ci = fit.conf_int()
    naive = sm.Logit(cust["churned"].astype(float), sm.add_constant(design[["integration"]])).fit(disp=0)
    return {
        "adjusted": {
            k: {"odds_ratio": round(float(np.exp(fit.params[k])), 2), "ci95": [round(float(np.exp(ci.loc[k, 0])), 2),
                                                                            round(float(np.exp(ci.loc[k, 1])), 2)]}
            for k in THEMES
        },
        "integration_unadjusted_odds_ratio": round(float(np.exp(naive.params["integration"])), 2),
    }


def realised_effects(corpus: Corpus, customers: pd.DataFrame) -> dict:
    """The planted effects as they came out in this sample (customer-level, from labels)."""
    labels = pd.DataFrame(corpus.labels)
    labels = labels[~labels["is_bad_row"] & (labels["customer_id"] != "")]
    mentions = labels.assign(theme=labels["themes"].str.split(";")).explode("theme")
    mentions = mentions[mentions["theme"].fillna("") != ""]
    by_customer = mentions.groupby("customer_id")["theme"].agg(set)
    cust = customers.set_index("customer_id")
    cust["themes"] = by_customer.reindex(cust.index).apply(lambda s: s if isinstance(s, set) else set())
    drivers = {k for k, t in THEMES.items() if t.churn_driver}
    cust["driver"] = cust["themes"].apply(lambda s: bool(s & drivers))
    integ = cust["themes"].apply(lambda s: "integration" in s)
    strata = {}
    for (segment, driver), g in cust.groupby(["segment", "driver"], sort=True):
        has = integ[g.index]
        strata[f"{segment}|{'driver' if driver else 'no_driver'}"] = {
            "n_mentioning": int(has.sum()),
            "churn_mentioning": round(float(g.loc[has, "churned"].mean()), 4) if has.any() else None,
            "n_not_mentioning": int((~has).sum()),
            "churn_not_mentioning": round(float(g.loc[~has, "churned"].mean()), 4) if (~has).any() else None,
        }
    out: dict = {
        "customers": int(len(cust)),
        "churn_odds_ratios": reference_odds_ratios(cust),
        "integration_by_segment_and_driver": strata,
        "churn_rate": round(float(cust["churned"].mean()), 4),
        "churn_rate_driver_mentioned": round(float(cust.loc[cust["driver"], "churned"].mean()), 4),
        "churn_rate_no_driver": round(float(cust.loc[~cust["driver"], "churned"].mean()), 4),
        "churn_rate_by_segment": {
            s: round(float(g["churned"].mean()), 4) for s, g in cust.groupby("segment", sort=True)
        },
        "themes": {},
    }
    for key in THEMES:
        has = cust["themes"].apply(lambda s, k=key: k in s)
        ent = cust["segment"] == "enterprise"
        nps = [int(r["score"]) for r in corpus.surveys if "_bad" not in r and key in r["_doc"].themes]
        out["themes"][key] = {
            "customers_mentioning": int(has.sum()),
            "churn_rate_mentioning": round(float(cust.loc[has, "churned"].mean()), 4),
            "churn_rate_not_mentioning": round(float(cust.loc[~has, "churned"].mean()), 4),
            "enterprise_share_mentioning": round(float(ent[has].mean()), 4),
            "churn_rate_mentioning_enterprise": round(float(cust.loc[has & ent, "churned"].mean()), 4)
            if (has & ent).any()
            else None,
            "churn_rate_not_mentioning_enterprise": round(float(cust.loc[~has & ent, "churned"].mean()), 4),
            "survey_answers": len(nps),
            "mean_nps": round(sum(nps) / len(nps), 3) if nps else None,
            "detractor_share": round(sum(s <= 6 for s in nps) / len(nps), 4) if nps else None,
        }
    return out


def language_mix(labels: list[dict]) -> dict[str, float]:
    rows = [lab for lab in labels if not lab["is_non_answer"]]
    counts: dict[str, int] = {}
    for lab in rows:
        counts[lab["language"]] = counts.get(lab["language"], 0) + 1
    return {k: round(v / len(rows), 4) for k, v in sorted(counts.items())}


def planted_effects(corpus: Corpus, customers: pd.DataFrame) -> dict:
    return {
        "seed_note": "Effects are the generating model; 'realised' is what this sample actually contains.",
        "churn_model": {
            "formula": "p = min(0.95, baseline * segment_multiplier[segment] * (driver_multiplier if the customer "
            "mentioned any churn-driver theme in any survey answer or ticket else 1))",
            "baseline": BASELINE_CHURN,
            "driver_multiplier": DRIVER_CHURN_MULTIPLIER,
            "segment_multiplier": SEGMENT_CHURN_MULTIPLIER,
            "churn_driver_themes": [k for k, t in THEMES.items() if t.churn_driver],
        },
        "nps_model": {
            "formula": "score = clip(round(base + sum(nps_effect of the answer's themes) + N(0, noise)), 0, 10)",
            "base": NPS_BASE,
            "noise": NPS_NOISE,
        },
        "csat_model": {
            "formula": "csat = clip(round(base + sum(csat_effect of the ticket's themes) + N(0, noise)), 1, 5); "
            f"missing for {CSAT_MISSING_SHARE:.0%} of tickets and for unresolved tickets",
            "base": CSAT_BASE,
            "noise": CSAT_NOISE,
        },
        "confounder": {
            "theme": "integration",
            "mentioned_mostly_by": "enterprise",
            "propensity_by_segment": INTEGRATION_PROPENSITY,
            "own_effect": "none (no churn, NPS or CSAT effect); it looks like a churn driver only because "
            "enterprise customers churn at 2x the baseline",
        },
        "themes": {
            k: {
                "label": t.label,
                "polarity": t.polarity,
                "churn_driver": t.churn_driver,
                "nps_effect": t.nps_effect,
                "csat_effect": t.csat_effect,
            }
            for k, t in THEMES.items()
        },
        "language_mix": language_mix(corpus.labels),
        "duplicates": corpus.duplicates,
        "bad_rows": [
            {k: b[k] for k in ("file", "row_number", "column", "reason", "value")} for b in corpus.bad_rows
        ],
        "realised": realised_effects(corpus, customers),
    }


def write_all(corpus: Corpus, out: Path, seed: int) -> None:
    out.mkdir(parents=True, exist_ok=True)
    write_csv(out / "surveys.csv", corpus.surveys, SURVEY_COLUMNS)
    write_jsonl(out / "tickets.jsonl", corpus.tickets, TICKET_COLUMNS)
    customers = customers_frame(corpus.customers)
    table = pa.Table.from_pandas(customers, preserve_index=False)
    pq.write_table(table, out / "customers.parquet", compression="zstd")
    labels = pd.DataFrame(corpus.labels)
    labels.to_csv(out / "labels.csv", index=False, lineterminator="\n")
    effects = planted_effects(corpus, customers)
    (out / "planted_effects.json").write_text(json.dumps(effects, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / "README.md").write_text(render_readme(corpus, effects, seed), encoding="utf-8")


def render_readme(corpus: Corpus, effects: dict, seed: int) -> str:
    """The data card: how the files were made and what is planted in them (numbers from this run)."""
    real = effects["realised"]
    mix = effects["language_mix"]
    theme_rows = "\n".join(
        f"| `{k}` | {t.label} | {'yes' if t.churn_driver else 'no'} | {t.nps_effect:+.1f} | {t.csat_effect:+.1f} | "
        f"{real['themes'][k]['customers_mentioning']} | {real['themes'][k]['churn_rate_mentioning']:.1%} | "
        f"{real['themes'][k]['mean_nps'] if real['themes'][k]['mean_nps'] is not None else '-'} |"
        for k, t in THEMES.items()
    )
    bad_rows = "\n".join(
        f"| {b['file']} | {b['row_number']} | `{b['column']}` | {b['reason']} | `{json.dumps(b['value'], ensure_ascii=False)}` |"
        for b in effects["bad_rows"]
    )
    integ = real["themes"]["integration"]
    n_b77 = len(load_banking77_subset())
    n_survey = len(corpus.surveys)
    n_ticket = len(corpus.tickets)
    n_non = sum(1 for lab in corpus.labels if lab["is_non_answer"])
    return README_BODY.format(
        seed=seed,
        n_survey=n_survey,
        n_ticket=n_ticket,
        n_customers=len(corpus.customers),
        n_non=n_non,
        non_share=n_non / n_survey,
        mix=", ".join(f"{k} {v:.1%}" for k, v in sorted(mix.items(), key=lambda kv: -kv[1])),
        n_b77=n_b77,
        theme_rows=theme_rows,
        bad_rows=bad_rows,
        baseline=BASELINE_CHURN,
        driver_mult=DRIVER_CHURN_MULTIPLIER,
        churn=real["churn_rate"],
        churn_driver=real["churn_rate_driver_mentioned"],
        churn_no_driver=real["churn_rate_no_driver"],
        seg=", ".join(f"{k} {v:.1%}" for k, v in real["churn_rate_by_segment"].items()),
        integ_n=integ["customers_mentioning"],
        integ_ent=integ["enterprise_share_mentioning"],
        integ_churn=integ["churn_rate_mentioning"],
        integ_no=integ["churn_rate_not_mentioning"],
        integ_churn_ent=integ["churn_rate_mentioning_enterprise"],
        integ_no_ent=integ["churn_rate_not_mentioning_enterprise"],
        ent_nd_m=real["integration_by_segment_and_driver"]["enterprise|no_driver"]["churn_mentioning"],
        ent_nd_n=real["integration_by_segment_and_driver"]["enterprise|no_driver"]["churn_not_mentioning"],
        ent_d_m=real["integration_by_segment_and_driver"]["enterprise|driver"]["churn_mentioning"],
        ent_d_n=real["integration_by_segment_and_driver"]["enterprise|driver"]["churn_not_mentioning"],
        nps_base=NPS_BASE,
        csat_base=CSAT_BASE,
        csat_missing=CSAT_MISSING_SHARE,
        or_table=", ".join(
            f"{k} {v['odds_ratio']} [{v['ci95'][0]}, {v['ci95'][1]}]"
            for k, v in real["churn_odds_ratios"]["adjusted"].items()
        ),
        integ_naive=real["churn_odds_ratios"]["integration_unadjusted_odds_ratio"],
        n_b77_intents=len(BANKING77_THEMES),
        n_b77_per=BANKING77_PER_INTENT,
        **corpus.duplicates,
    )


README_BODY = """# Finora sample data (fictional)

A small, multilingual feedback corpus of a fictional fintech / subscription-app company, **Finora**, for the
demo run, the tests and the benchmarks of feedback-miner. Nothing here is about real people: names, e-mail
addresses, phone numbers, IBANs and card numbers are generated (IBANs have a valid mod-97 check number and
card numbers a valid Luhn digit, so that PII detectors have something real to find).

Made by (deterministic: same seed and library versions give the same bytes, checked by
`tests/test_sample_data.py`):

```
python scripts/make_sample_data.py --seed {seed} --out data/sample
```

Do not edit these files by hand: change the script and regenerate; this README is written by the script too.

## Files

| file | format | rows | columns |
|---|---|---|---|
| `surveys.csv` | CSV, UTF-8 | {n_survey} | `response_id, customer_id, submitted_at, score` (NPS 0-10), `comment`, + attributes `survey` (relationship / post_support / onboarding), `country` (ISO 3166), `platform` (ios / android / web) |
| `tickets.jsonl` | JSON Lines | {n_ticket} | `ticket_id, customer_id, created_at, subject, body, resolved_at` (null: open), `csat` (1-5, mostly null), `channel` (email / chat / web_form / in_app), `priority` (low / normal / high / urgent) |
| `customers.parquet` | Parquet | {n_customers} | `customer_id, churned` (bool), `churned_at` (UTC, null if not churned), `segment` (smb / mid / enterprise), `plan`, `revenue` (monthly, EUR, float), `signup_at` (UTC) |
| `labels.csv` | CSV | one per survey row and ticket | ground truth for tests and benchmarks only, never read by the pipeline: `source, row` (1-based data row / line), `source_id, customer_id, language, themes` (`;`-separated), `is_non_answer, is_bad_row` |
| `planted_effects.json` | JSON | | the generating model (churn, NPS, CSAT), the theme table, language mix, bad rows, and the effects as **realised** in this sample |
| `third_party/banking77_subset.csv` | CSV | {n_b77} | BANKING77 sentences used in some English tickets (see Licence) |

Timestamps are ISO 8601 in UTC (`2026-08-03T14:22:05Z`); survey answers and tickets span 2026-07-20 .. 2026-11-20.
Customers signed up between 2022 and 2026-07.

## Languages

Each customer writes in one language; the mix of texts (survey answers that are not non-answers, and tickets)
is: {mix}. The 15 German and Spanish survey answers are there to show out-of-set language counting
(the pipeline is configured for en/it/fr/ro). All Italian, French and Romanian texts are hand-written,
with diacritics (Romanian with comma-below ș/ț).

## Themes

Texts mention one or two themes (sometimes three for integration-minded customers); two-theme answers are
joined with contrast connectors when the polarity differs ("The app is great. But I was charged twice.").
Each theme has 15-17 hand-written phrasings per language, combined with openers, closers, amounts, merchants,
agents' names and plan names.

| theme | label | churn driver | NPS effect | CSAT effect | customers mentioning | their churn rate | mean NPS of answers |
|---|---|---|---|---|---|---|---|
{theme_rows}

## Planted effects (exact model; see `planted_effects.json`)

- **Churn** is one Bernoulli draw per customer:
  `p = min(0.95, {baseline} * segment_multiplier * ({driver_mult} if the customer mentioned double_charge,
  app_crash or slow_support in any survey answer or ticket else 1))`, with segment multipliers
  smb 1.0, mid 1.0, enterprise 2.0. Realised: overall {churn:.1%}; customers who mentioned a driver
  {churn_driver:.1%}, the others {churn_no_driver:.1%}; by segment {seg}.
  `churned_at` falls after the customer's last text.
- **NPS**: `score = clip(round({nps_base} + sum of the answer's themes' NPS effects + N(0, 1.3)), 0, 10)`, so the
  score follows the sentiment of the comment. `price_fees` and `refund_slow` (-5) push answers deeper into
  detractors than the other complaints (-3); praise themes add +1.5.
- **CSAT** (tickets): `clip(round({csat_base} + sum of CSAT effects + N(0, 0.6)), 1, 5)`, missing for
  {csat_missing:.0%} of tickets (at random) and for all open ones; `price_fees` and
  `refund_slow` -2.2, other complaints -1.0, praise +0.8.
- **Confounder**: `integration` (API / export to accounting) is mentioned mostly by enterprise customers
  (propensity enterprise 60%, mid 6%, smb 1%) and has **no effect of its own**. Because enterprise customers
  churn at twice the baseline it looks like a churn driver in a naive comparison
  ({integ_n} customers, {integ_ent:.0%} enterprise; churn {integ_churn:.1%} vs {integ_no:.1%} for the others),
  and still within enterprise ({integ_churn_ent:.1%} vs {integ_no_ent:.1%}), partly because customers who write
  about integration write at all, and so can mention a churn driver, while silent customers cannot. The model
  gives mentioners and non-mentioners of the same segment and driver status the same probability (enterprise:
  24% without a driver mention, 60% with one); the realised rates within those strata are Bernoulli noise
  on small groups: enterprise without a driver {ent_nd_m:.0%} with integration vs {ent_nd_n:.0%} without, with
  a driver {ent_d_m:.0%} vs {ent_d_n:.0%} (`realised.integration_by_segment_and_driver`). An analysis that
  adjusts for segment and the churn-driver themes should find no integration effect (its interval should
  cover 1).
- **Reference analysis** (one logistic regression of churn on segment and all theme mentions,
  `realised.churn_odds_ratios`): {or_table}. Unadjusted, integration's odds ratio is {integ_naive}.
- Realism, not planted outcome effects: tickets about slow support take longer to resolve; customers with
  complaints open more tickets; 12% of customers never write.

## Realistic mess

- Ticket bodies: greetings and sign-offs, e-mail signatures ("Sent from my iPhone", "Inviato da iPhone",
  "Envoyé de mon iPhone", "Trimis de pe iPhone-ul meu"), confidentiality footers, HTML e-mails (`<p>`, `<br>`,
  `&amp;`, `&nbsp;`, `<blockquote>`), quoted reply chains ("On Mon, ... wrote:", "> " and ">> " lines,
  "-----Original Message-----" and its localised forms, "Il giorno ... ha scritto:", "Le ... a écrit :",
  "În data de ... a scris:"), the support team's auto-reply macro quoted in many tickets, URLs, PII (e-mail
  addresses, international phone numbers, IBANs, card numbers, IP addresses, person and company names).
- Chat tickets are short and sometimes all lower-case; some survey answers are typed in a hurry (lower-case,
  no final period) or contain a line break.
- Non-answers ("n/a", "-", "nothing", "niente", "rien", "nimic", "no comment", ...): {n_non} survey rows
  ({non_share:.1%}).
- Copy-pasted complaints: {survey_exact_copies} survey answers that repeat another customer's text exactly and
  {survey_near_copies} lightly edited copies; {ticket_exact_copies} tickets re-sent identically by the same
  customer and {ticket_near_copies} re-sent with a small edit.
- 6 anonymous survey answers have an empty `customer_id` (valid rows whose customer is unknown).

## Deliberately bad rows (for quarantine)

Each is a copy of a real row with one field broken; `row` is the 1-based data row (CSV, header excluded) or
line (JSON Lines).

| file | row | column | reason | value |
|---|---|---|---|---|
{bad_rows}

## Licence

The hand-written texts, the generator and the generated data are part of feedback-miner and licensed under
Apache-2.0, like the project.

`third_party/banking77_subset.csv` and the English ticket sentences taken from it come from BANKING77,
licensed CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/): Iñigo Casanueva, Tadas Temčinas, Daniela
Gerz, Matthew Henderson, Ivan Vulić. 2020. "Efficient Intent Detection with Dual Sentence Encoders".
Proceedings of the 2nd Workshop on NLP for ConvAI, ACL 2020. arXiv:2003.04807.
https://github.com/PolyAI-LDN/task-specific-datasets (commit 57ec275). We selected sentences of
{n_b77_intents} intents ({n_b77_per} per intent, seeded sample) and added a `theme` column; the sentences are
unchanged.
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "sample")
    parser.add_argument("--extract-banking77", type=Path, default=None, metavar="TRAIN_CSV",
                        help="Rewrite the vendored BANKING77 subset from this train.csv, then generate.")
    args = parser.parse_args(argv)
    if args.extract_banking77 is not None:
        extract_banking77(args.extract_banking77, args.seed)
    corpus = generate(args.seed)
    write_all(corpus, args.out, args.seed)


if __name__ == "__main__":
    main()
