"""Domain errors, each with an HTTP status and a Vietnamese public message (the message id).

A raise site passes a Vietnamese message id marked with N_() (so the catalog extractor sees it) and NAMED
parameters, never an f-string: ``ValidationFailed(N_("Tài khoản {username} đã tồn tại."), username=name)``.
``exc.detail`` is the formatted Vietnamese text (logs, CLI); ``exc.translated(lang)`` is what a page shows.
"""

from __future__ import annotations

from .i18n import N_, gettext


class Message(str):
    """A translatable text: a Vietnamese message id and named parameters. As a ``str`` it is the formatted
    Vietnamese text, so lists of messages still compare, print and serialise as before; a page shows
    ``translated(lang)``. A parameter that is itself a Message (a field label, a nested error) or an AppError
    is translated into the same language."""

    message_id: str
    params: dict[str, object]

    def __new__(cls, message_id: str, /, **params: object) -> Message:
        text = super().__new__(cls, gettext(message_id, "vi", **params))
        text.message_id = str(message_id)
        text.params = params
        return text

    def translated(self, lang: str) -> str:
        params = {k: v.translated(lang) if isinstance(v, Message | AppError) else v for k, v in self.params.items()}
        return gettext(self.message_id, lang, **params)

    def __repr__(self) -> str:
        return f"Message({self.message_id!r}, **{self.params!r})"


class AppError(Exception):
    status_code = 400
    public_message = N_("Yêu cầu không hợp lệ")

    def __init__(self, message_id: str | Message | None = None, /, **params: object) -> None:
        if isinstance(message_id, Message):
            self.message = Message(message_id.message_id, **{**message_id.params, **params})
        else:
            self.message = Message(message_id or self.public_message, **params)
        self.detail = str(self.message)
        super().__init__(self.detail)

    @property
    def message_id(self) -> str:
        return self.message.message_id

    @property
    def params(self) -> dict[str, object]:
        return self.message.params

    @property
    def has_detail(self) -> bool:
        """Whether the raise site said more than the class's public message."""
        return self.message_id != self.public_message

    def translated(self, lang: str) -> str:
        return self.message.translated(lang)


class NotFound(AppError):
    status_code = 404
    public_message = N_("Không tìm thấy trang")


class PointNotFound(NotFound):
    """Unknown or revoked reception point token."""


class Forbidden(AppError):
    status_code = 403
    public_message = N_("Không có quyền truy cập")


class NotAuthenticated(AppError):
    status_code = 401
    public_message = N_("Đăng nhập")


class PasswordChangeRequired(AppError):
    status_code = 303
    public_message = N_("Vui lòng đổi mật khẩu ban đầu trước khi tiếp tục.")


class PayloadTooLarge(AppError):
    status_code = 413
    public_message = N_("Dữ liệu gửi lên quá lớn.")


class ValidationFailed(AppError):
    status_code = 422
    public_message = N_("Yêu cầu không hợp lệ")


class ConfigurationError(Exception):
    """Refuses start-up: e.g. a published questionnaire was edited without a new version."""
