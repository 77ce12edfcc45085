"""Postal addresses in en/it/fr/ro: street type + name + house number, with the postcode and city
that follow. The whole span is one ``<ADDRESS>`` (a number, postcode or city left behind still
points at a household).

Formats covered (street types case-insensitive, names capitalised):

- it: ``Via Roma 12``, ``Piazza Garibaldi, 3/A``, ``Corso Vittorio Emanuele II n. 15, 20121 Milano (MI)``
- fr: ``12 rue de la Paix, 75002 Paris``, ``3 bis avenue Victor Hugo``, ``45, boulevard Saint-Michel``
- ro: ``Strada Lipscani 5, București``, ``Str. Mihai Eminescu nr. 12, bl. A3, ap. 4, sector 2``
- en: ``221B Baker Street, London NW1 6XE``, ``1600 Pennsylvania Ave, Washington, DC 20500``
"""

from __future__ import annotations

import re

_UPPER = "A-ZÀ-ÖØ-ÞĂÂÎȘŞȚŢ"
_LOWER = "a-zà-öø-ÿăâîșşțţ"
_WORD = rf"(?:[{_UPPER}][{_LOWER}{_UPPER}'’.-]+|[IVX]+|\d{{1,2}}(?=[ \t]+[{_UPPER}]))"
_CONNECT = (r"(?:de\s+la|de\s+l['’]|de|del|della|dello|dei|degli|delle|di|da|du|des|d['’]|l['’]|la|le|lui|cel|"
            r"și|si|of|the)")
_NAME = rf"{_WORD}(?:[ \t]+(?:{_CONNECT}[ \t]*)?{_WORD}){{0,4}}"
_NUMBER = r"\d{1,5}(?:[ \t]?(?:bis|ter|quater)\b|[A-Za-z](?![\w]))?(?:[ \t]?/[ \t]?\w{1,3})?"
_POSTCODE = r"(?:\d{5,6}|[A-Z]{1,2}\d[A-Z\d]?[ \t]?\d[A-Z]{2}|[A-Z]{2}[ \t]\d{5}(?:-\d{4})?)"
_CITY_WORD = rf"[{_UPPER}][{_LOWER}{_UPPER}'’-]*[{_LOWER}]"  # "Milano", "McKenzietown", "Saint-Denis"
_CITY_LINK = r"(?:sur|sous|en|le|la|di|de|del|al|am|upon|de sub|din|pe)"
# "Milano", "Saint-Denis", "Poienile de sub Munte", "Valea Mare (Babeni)", "1 Decembrie"
_CITY = (rf"(?:\d{{1,2}}[ \t]+)?{_CITY_WORD}(?:[ \t-]+(?:{_CITY_LINK}[ \t-]+)?{_CITY_WORD}){{0,3}}"
         rf"(?:[ \t]*\([{_UPPER}][^()\n\x00]{{1,40}}\))?")
# What may follow the number: flat/building details, then postcode + city in either order.
_UNIT = (r"(?:,?[ \t]*(?i:appartamento|apartament|interno|bâtiment|escalier|étage|scara|etaj|bloc|flat|unit|suite|"
         r"apt\.?|ap\.?|bl\.?|sc\.?|et\.?|int\.?|bât\.?)(?![\w])[ \t]*\w{1,4})*")
_TAIL = (
    rf"(?:,?[ \t]*{_POSTCODE}[ \t]*,?[ \t]*{_CITY}(?:[ \t]*\([A-Z]{{2}}\))?"
    rf"|,[ \t]*{_CITY}(?:[ \t]*,?[ \t]*{_POSTCODE}|(?:[ \t]*\([A-Z]{{2}}\))?(?=[ \t]*(?:$|[\n.,;:!?)\x00])))"
    rf"|,?[ \t]*(?i:sector|sectorul)[ \t]*[1-6])?"
    rf"(?:,?[ \t]*(?i:sector|sectorul)[ \t]*[1-6])?"
)

_IT_RO = (r"(?i:via|viale|v\.le|piazza|p\.zza|piazzale|corso|c\.so|largo|vicolo|strada|contrada|località|loc\.|"
          r"lungomare|lungarno|borgo|salita|traversa|str\.|bulevardul|bd\.|b-dul|bdul\.?|calea|șoseaua|şoseaua|"
          r"soseaua|șos\.|sos\.|aleea|piața|piaţa|piata|splaiul|intrarea|drumul)")
_FR = (r"(?i:rue|avenue|av\.|boulevard|bd|bld|place|chemin|allée|allee|impasse|quai|route|cours|square|passage|"
       r"faubourg|rond-point|cité|résidence|sentier|voie)")
_EN = (r"(?i:street|st\.?|road|rd\.?|avenue|ave\.?|lane|ln\.?|drive|dr\.?|boulevard|blvd\.?|court|ct\.?|"
       r"place|pl\.?|crescent|terrace|square|gardens|grove|parade|mews|highway|hwy)")

ADDRESS = re.compile(
    "(?<![\\w])(?:"
    # it/ro: street type, name, (nr.) number
    rf"{_IT_RO}[ \t]+{_NAME},?[ \t]*(?:(?i:n\.|nr\.?|n°|numero|numărul|numarul)[ \t]*)?{_NUMBER}"
    # fr: number, street type, name
    rf"|{_NUMBER},?[ \t]+{_FR}[ \t]+(?:{_CONNECT}[ \t]*)?{_NAME}"
    # en: number, name, street type
    rf"|{_NUMBER}[ \t]+{_NAME}[ \t]+{_EN}(?![\w])"
    rf"){_UNIT}{_TAIL}"
)
