"""Data protection (Law 91/2025/QH15, Decree 356/2025): the inventory of personal data and retention."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ..models import utcnow
from . import audit, feedback, ratelimit


@dataclass(frozen=True)
class DataHolding:
    what: str
    why: str
    where: str
    how_long: str
    who_sees: str


def inventory(*, contact_retention_days: int, rate_event_retention_hours: int) -> list[DataHolding]:
    """What personal or pseudonymous data the system stores. Keep in step with models.py."""
    return [
        DataHolding(
            "Câu trả lời khảo sát (ẩn danh: không họ tên, điện thoại, địa chỉ, IP)",
            "Đo mức độ hài lòng với dịch vụ công",
            "bảng response (answers)", "Lâu dài (số liệu thống kê)",
            "Cán bộ theo phạm vi được phân quyền, chỉ ở dạng tổng hợp",
        ),
        DataHolding(
            "Góp ý bằng chữ (có thể chứa thông tin cá nhân do người dân tự viết)",
            "Tiếp nhận, xử lý góp ý, phản ánh, kiến nghị", "bảng comment",
            "Lâu dài; thông tin cá nhân trong nội dung được che khi hiển thị ngoài cơ quan có trách nhiệm",
            "Cơ quan có trách nhiệm trả lời; mỗi lần xem được ghi nhật ký",
        ),
        DataHolding(
            "Mã băm có khoá của thiết bị (cookie ngẫu nhiên) và của mạng (địa chỉ IP, muối đổi hằng ngày)",
            "Chống gửi phiếu hàng loạt, phát hiện tự đánh giá", "bảng response (device_hash, network_hash)",
            "Cùng phiếu; không thể khôi phục địa chỉ IP, không liên kết được giữa các ngày",
            "Không hiển thị cho ai",
        ),
        DataHolding(
            "Bộ đếm đăng nhập sai và tần suất gửi (mã băm có khoá)", "Chống dò mật khẩu, chống spam",
            "bảng rate_event", f"{rate_event_retention_hours} giờ (xoá bằng survey-app retention apply)",
            "Không hiển thị cho ai",
        ),
        DataHolding(
            "Tài khoản cán bộ (tên đăng nhập, họ tên, mật khẩu băm argon2)", "Đăng nhập, phân quyền",
            "bảng app_user, user_scope", "Đến khi tài khoản bị xoá", "Quản trị viên",
        ),
        DataHolding(
            "Nhật ký hoạt động (ai làm gì, khi nào; không chứa câu trả lời hay thông tin liên hệ)",
            "Trách nhiệm giải trình, an toàn hệ thống", "bảng audit_event (chỉ ghi thêm)", "Lâu dài",
            "Quản trị viên",
        ),
        DataHolding(
            "Số điện thoại hoặc email người dân để lại khi yêu cầu trả lời phản ánh (có đồng ý)",
            "Trả lời phản ánh, kiến nghị", "bảng feedback_contact (kèm thời điểm đồng ý consent_at)",
            f"{contact_retention_days} ngày kể từ khi đồng ý, rồi xoá (survey-app retention apply)",
            "Chỉ cơ quan có trách nhiệm trả lời; nơi khác hiển thị dạng che; mỗi lần xem được ghi nhật ký",
        ),
        DataHolding(
            "Nội dung góp ý, phản ánh, kiến nghị và ghi chú nội bộ (có thể chứa số điện thoại, số CCCD, "
            "biển số xe do người dân tự viết)",
            "Tiếp nhận, chuyển đúng cơ quan, trả lời và theo dõi", "bảng feedback_item, feedback_note, feedback_event",
            "Lâu dài (số liệu tổng hợp); thông tin cá nhân trong nội dung luôn được che ngoài cơ quan có trách nhiệm",
            "Cơ quan được giao xử lý (đầy đủ, có ghi nhật ký); quản trị viên (dạng che); người dân có mã theo dõi "
            "chỉ thấy trạng thái và câu trả lời công khai",
        ),
    ]


def apply_retention(
    session: Session, *, rate_event_retention_hours: int, contact_retention_days: int | None = None,
    now: dt.datetime | None = None,
) -> dict[str, int]:
    """Delete what has outlived its purpose. Idempotent; recorded in the audit trail.
    Contacts are purged only when ``contact_retention_days`` is given (the CLI passes the setting)."""
    now = now or utcnow()
    removed = {"rate_event": ratelimit.purge(session, older_than=dt.timedelta(hours=rate_event_retention_hours), now=now)}
    if contact_retention_days is not None:
        removed["feedback_contact"] = feedback.purge_contacts(session, retention_days=contact_retention_days, now=now)
    audit.record(session, actor=None, actor_name="retention", action="retention_applied", details=removed)
    return removed
