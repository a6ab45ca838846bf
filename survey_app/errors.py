"""Domain errors, each with an HTTP status and a Vietnamese public message (the message id)."""

from __future__ import annotations


class AppError(Exception):
    status_code = 400
    public_message = "Yêu cầu không hợp lệ"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail or self.public_message)
        self.detail = detail or self.public_message


class NotFound(AppError):
    status_code = 404
    public_message = "Không tìm thấy trang"


class PointNotFound(NotFound):
    """Unknown or revoked reception point token."""


class Forbidden(AppError):
    status_code = 403
    public_message = "Không có quyền truy cập"


class NotAuthenticated(AppError):
    status_code = 401
    public_message = "Đăng nhập"


class PasswordChangeRequired(AppError):
    status_code = 303
    public_message = "Vui lòng đổi mật khẩu ban đầu trước khi tiếp tục."


class PayloadTooLarge(AppError):
    status_code = 413
    public_message = "Dữ liệu gửi lên quá lớn."


class ValidationFailed(AppError):
    status_code = 422
    public_message = "Yêu cầu không hợp lệ"


class ConfigurationError(Exception):
    """Refuses start-up: e.g. a published questionnaire was edited without a new version."""
