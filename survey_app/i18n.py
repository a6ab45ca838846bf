"""Interface translations. The Vietnamese text is the message id (gettext style); every other language
is a Babel catalog in ``locale/<lang>/LC_MESSAGES/messages.po``. A catalog directory present at start-up
makes its language available: provinces add one with ``survey-app translations import``."""

from __future__ import annotations

import re
import threading
from pathlib import Path

from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
LANG_CODE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")


def N_(message: str) -> str:  # the gettext convention extractors look for
    """Mark a Vietnamese message id defined in Python for extraction; it is translated where shown."""
    return message


# Each catalog carries its own language's name as the translation of this id, so a translator
# names the language in the same spreadsheet (Babel drops custom PO header fields).
LANGUAGE_NAME_ID = N_("Tên của ngôn ngữ này, viết bằng chính ngôn ngữ đó (ví dụ: English)")

# Mutated in place by load_catalogs: the Jinja environment holds a reference to LANGUAGE_NAMES.
LANGUAGE_NAMES: dict[str, str] = {"vi": "Tiếng Việt"}
_CATALOGS: dict[str, dict[str, str]] = {}
_lock = threading.Lock()
_loaded_from: Path | None = None


def catalog_path(lang: str, locale_dir: Path | None = None) -> Path:
    return (locale_dir or LOCALE_DIR) / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(path: Path) -> dict[str, str]:
    """msgid → translation for the non-empty, non-fuzzy entries of one PO file."""
    with path.open("rb") as fh:
        catalog = read_po(fh)
    return {
        str(m.id): str(m.string)
        for m in catalog
        if m.id and isinstance(m.id, str) and isinstance(m.string, str) and m.string and not m.fuzzy
    }


def load_catalogs(locale_dir: Path | None = None) -> None:
    """(Re)load every catalog under ``locale_dir``; languages = "vi" + each catalog directory present."""
    global _loaded_from
    directory = locale_dir or LOCALE_DIR
    catalogs: dict[str, dict[str, str]] = {}
    for path in sorted(directory.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        lang = path.parent.parent.name
        if lang != "vi" and LANG_CODE.match(lang):
            catalogs[lang] = read_catalog(path)
    with _lock:
        _CATALOGS.clear()
        _CATALOGS.update(catalogs)
        LANGUAGE_NAMES.clear()
        LANGUAGE_NAMES["vi"] = "Tiếng Việt"
        for lang, messages in catalogs.items():
            LANGUAGE_NAMES[lang] = messages.get(LANGUAGE_NAME_ID, lang)
        _loaded_from = directory


def _ensure_loaded() -> None:
    if _loaded_from is None:
        load_catalogs()


def supported_languages() -> tuple[str, ...]:
    _ensure_loaded()
    return tuple(LANGUAGE_NAMES)


def gettext(message: str, lang: str, **params: object) -> str:
    """Translate a Vietnamese message id into ``lang`` (falling back to Vietnamese), then format."""
    if lang != "vi":
        _ensure_loaded()
        text = _CATALOGS.get(lang, {}).get(message) or message
    else:
        text = message
    return text.format(**params) if params else text


def pick_language(requested: str | None, default: str = "vi") -> str:
    return requested if requested is not None and requested in supported_languages() else default


load_catalogs()
