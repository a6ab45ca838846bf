"""Domain errors, each with an HTTP status and a Vietnamese public message (the message id)."""

from __future__ import annotations

from .i18n import N_


class AppError(Exception):
    status_code = 400
    public_message = N_("Yêu cầu không hợp lệ")

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail or self.public_message)
        self.detail = detail or self.public_message


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
