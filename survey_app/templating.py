"""Jinja2 environment: autoescaping, translation helper, url helpers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context

from .errors import Message
from .i18n import LANGUAGE_NAMES, N_, gettext

TEMPLATE_DIR = Path(__file__).parent / "templates"


@pass_context
def _translate(ctx: Context, message: str, **params: Any) -> str:
    return gettext(message, str(ctx.get("lang", "vi")), **params)


@pass_context
def _translate_text(ctx: Context, text: object) -> str:
    """A text a service made (a Message, e.g. a method note): in the page's language; anything else as it is."""
    if isinstance(text, Message):
        return text.translated(str(ctx.get("lang", "vi")))
    return "" if text is None else str(text)


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATE_DIR))
    env = templates.env
    env.autoescape = True
    env.globals["_"] = _translate
    env.globals["N_"] = N_  # marks ids in template literals for extraction; _() translates them later
    env.globals["tr"] = _translate_text
    env.globals["LANGUAGE_NAMES"] = LANGUAGE_NAMES
    env.trim_blocks = True
    env.lstrip_blocks = True
    return templates
