"""Posted HTML forms in the shape questionnaire validation takes (repeated keys for multiple choice)."""

from __future__ import annotations

from starlette.datastructures import FormData


def form_lists(form: FormData) -> dict[str, list[str]]:
    """Every text field as a list of its values; uploaded files are ignored."""
    result: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            result.setdefault(key, []).append(value)
    return result
