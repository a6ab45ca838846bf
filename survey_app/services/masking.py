"""Masking personal data that citizens write into free text: phone numbers, citizen ID numbers
(CMND 9 digits, CCCD 12 digits), e-mail addresses and vehicle plate numbers.

Full text is shown only to the responsible agency; every other view goes through :func:`mask`.
The patterns lean towards masking: a missed phone number is worse than a masked reference number.
Money amounts written with thousands separators ("150.000.000 đồng") are kept: they matter to the case.
"""

from __future__ import annotations

import re

PHONE_MASK = "[số điện thoại đã che]"
ID_MASK = "[số giấy tờ đã che]"
EMAIL_MASK = "[email đã che]"
PLATE_MASK = "[biển số đã che]"

_SEP = r"[\s.\-]?"
EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+", re.UNICODE)
# Mobile: 0 or +84/84 then 9 digits starting 3/5/7/8/9; landline: 0 + 2xx area code, 10 digits after the 0.
PHONE = re.compile(
    r"(?<![\w+])(?:\(\s*\+?84\s*\)|\+\s?84|84|0)"
    rf"{_SEP}(?:[35789](?:{_SEP}\d){{8}}|2(?:{_SEP}\d){{9}})(?!\d)"
)
_NOT_MONEY = r"(?!\s*(?:đ|đồng|vnđ|vnd|triệu|nghìn|ngàn|tỷ)\b)"
# CCCD (12) or CMND (9), contiguous or in groups of three separated by single spaces.
CITIZEN_ID = re.compile(
    rf"(?<!\w)(?<!\d[.,])(?:\d{{12}}|\d{{9}}|\d{{3}}(?: \d{{3}}){{3}}|\d{{3}} \d{{3}} \d{{3}})(?!\w)(?![.,]\d){_NOT_MONEY}",
    re.IGNORECASE,
)
# 26A-123.45, 29-B1 123.45, 29B1-123.45, 30A 12345, 51LD-123.45 (upper-case series letters, as on plates).
PLATE = re.compile(r"(?<![\w])\d{2}[\s\-]?[A-ZĐ][A-Z0-9]?[\s\-.]{0,2}\d{3}\.?\d{1,2}(?![\w])")

_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (EMAIL, EMAIL_MASK),
    (PLATE, PLATE_MASK),
    (PHONE, PHONE_MASK),
    (CITIZEN_ID, ID_MASK),
)


def mask(text: str | None) -> str:
    """The text with every recognised piece of personal data replaced by a Vietnamese placeholder."""
    if not text:
        return ""
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


def contains_personal_data(text: str | None) -> bool:
    return bool(text) and mask(text) != text


def mask_phone(phone: str | None) -> str:
    """A contact phone for people who may know one exists but not what it is: the last two digits stay."""
    digits = re.sub(r"\D", "", phone or "")
    return "" if not digits else "•" * max(0, len(digits) - 2) + digits[-2:]


def mask_email(email: str | None) -> str:
    if not email or "@" not in email:
        return ""
    local, domain = email.split("@", 1)
    return f"{local[:1]}•••@{domain}"
