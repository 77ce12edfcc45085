"""Check digits of the numbers the redactor replaces: a candidate that fails its checksum is left as is,
so order numbers, amounts and product codes stay readable."""

from __future__ import annotations

import datetime as dt


def luhn_ok(digits: str) -> bool:
    """Luhn checksum of a digit string (payment card numbers)."""
    total, parity = 0, len(digits) % 2
    for i, ch in enumerate(digits):
        d = ord(ch) - 48
        if i % 2 == parity:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def iban_ok(compact: str) -> bool:
    """ISO 13616 IBAN check: move the first four characters to the end, letters to numbers, mod 97 == 1."""
    s = compact.upper()
    if not (15 <= len(s) <= 34 and s[:2].isalpha() and s[2:4].isdigit() and s.isalnum()):
        return False
    rearranged = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


_CNP_WEIGHTS = (2, 7, 9, 1, 4, 6, 3, 5, 8, 2, 7, 9)
_CNP_CENTURY = {"1": 1900, "2": 1900, "3": 1800, "4": 1800, "5": 2000, "6": 2000, "7": 1900, "8": 1900, "9": 1900}


def cnp_ok(digits: str) -> bool:
    """Romanian personal numeric code: sex/century digit, birth date YYMMDD, county, serial, check digit."""
    if len(digits) != 13 or not digits.isdigit() or digits[0] == "0":
        return False
    try:
        dt.date(_CNP_CENTURY[digits[0]] + int(digits[1:3]), int(digits[3:5]), int(digits[5:7]))
    except ValueError:
        return False
    check = sum(int(d) * w for d, w in zip(digits[:12], _CNP_WEIGHTS, strict=True)) % 11
    return int(digits[12]) == (1 if check == 10 else check)


# Codice fiscale: the odd-position (1st, 3rd, ...) values of each character; even positions use 0-9/A-Z = 0-25.
_CF_ODD = dict(zip("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                   (1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8,
                    12, 14, 16, 10, 22, 25, 24, 23), strict=True))


def codice_fiscale_ok(code: str) -> bool:
    """Italian tax code: 15 characters and a check letter (odd/even position tables, mod 26)."""
    s = code.upper()
    if len(s) != 16 or not s.isalnum():
        return False
    total = 0
    for i, ch in enumerate(s[:15]):
        total += _CF_ODD[ch] if i % 2 == 0 else (int(ch) if ch.isdigit() else ord(ch) - 65)
    return chr(65 + total % 26) == s[15]


def nir_ok(code: str) -> bool:
    """French social security number (NIR): 13 characters and a 2-digit key, 97 - (number mod 97).

    Corsican departments 2A/2B count as 19/18 in the number.
    """
    s = code.upper()
    if len(s) != 15 or s[0] not in "12378":
        return False
    body, key = s[:13], s[13:]
    if body[5:7] == "2A":
        body = body[:5] + "19" + body[7:]
    elif body[5:7] == "2B":
        body = body[:5] + "18" + body[7:]
    if not (body.isdigit() and key.isdigit()):
        return False
    return 97 - int(body) % 97 == int(key)
