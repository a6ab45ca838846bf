"""Password hashing (argon2 via pwdlib) and signed tokens (sessions, form tickets)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from pwdlib import PasswordHash

_hasher = PasswordHash.recommended()
SESSION_COOKIE = "survey_session"
SESSION_MAX_AGE = 8 * 3600
FORM_TICKET_MAX_AGE = 24 * 3600


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return bool(_hasher.verify(password, password_hash))
    except Exception:  # a malformed stored hash must not become a 500
        return False


class Signer:
    """Signs small JSON payloads with the application secret, one salt per purpose."""

    def __init__(self, secret_key: str) -> None:
        self._secret = secret_key
        self._serializers: dict[str, URLSafeTimedSerializer] = {}

    def _serializer(self, purpose: str) -> URLSafeTimedSerializer:
        # Built once per purpose (stateless once built): every citizen's GET and POST signs or reads a ticket.
        serializer = self._serializers.get(purpose)
        if serializer is None:
            serializer = self._serializers[purpose] = URLSafeTimedSerializer(self._secret, salt=f"survey-app:{purpose}")
        return serializer

    def dumps(self, purpose: str, payload: dict[str, Any]) -> str:
        return self._serializer(purpose).dumps(payload)

    def loads(self, purpose: str, token: str | None, *, max_age: int) -> dict[str, Any] | None:
        if not token:
            return None
        try:
            data = self._serializer(purpose).loads(token, max_age=max_age)
        except (BadSignature, SignatureExpired):
            return None
        return data if isinstance(data, dict) else None


@dataclass(frozen=True)
class FormTicket:
    """Carried by every rendered form: the submission id, the version shown and when it was shown."""

    submission_id: str
    version_id: int
    started_at: dt.datetime


def issue_ticket(signer: Signer, *, submission_id: str, version_id: int, now: dt.datetime) -> str:
    return signer.dumps("form", {"sid": submission_id, "v": version_id, "t": now.isoformat()})


def read_ticket(signer: Signer, token: str | None) -> FormTicket | None:
    data = signer.loads("form", token, max_age=FORM_TICKET_MAX_AGE)
    if not data:
        return None
    try:
        return FormTicket(str(data["sid"]), int(data["v"]), dt.datetime.fromisoformat(str(data["t"])))
    except (KeyError, ValueError, TypeError):
        return None
