"""What a report is made with: the reader's choices (collection modes, flagged responses, weighting, minimum n,
small-area estimation), the fixed vocabularies behind them, and the method note printed on every report."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import Message, ValidationFailed
from ..i18n import N_, gettext, supported_languages
from ..questionnaire import SECTOR_LABELS, Sector
from ..questionnaire import SIPAS_LABELS as SIPAS_LABELS  # for the report templates (terms.SIPAS_LABELS)

MODES = ("qr", "enumerator", "paper", "kiosk")
MODE_LABELS = {"qr": N_("Mã QR"), "enumerator": N_("Điều tra viên"), "paper": N_("Phiếu giấy"), "kiosk": N_("Ki-ốt")}
SELF_SELECTED = ("qr", "kiosk")
WEIGHTINGS = {
    "unweighted": N_("Không gia quyền (mỗi phiếu có trọng số 1)"),
    "transactions": N_("Hiệu chỉnh (raking) theo số giao dịch của từng điểm tiếp nhận trong kỳ (chỉ phiếu QR/ki-ốt)"),
    "population": N_("Hiệu chỉnh (raking) theo cơ cấu dân số: lĩnh vực × giới tính và lĩnh vực × nhóm tuổi"),
    "design": N_("Trọng số thiết kế của mẫu điều tra hộ (tầng và đơn vị mẫu cấp 1 của đợt điều tra; "
                 "chỉ phiếu điều tra viên và phiếu giấy)"),
}
LINEAR_WEIGHTINGS = ("unweighted", "design")  # estimated from the cells' sums (report_compact), never from rows
DEFAULT_TARGETS = {"one_stop": 90.0, "land_certificate": 85.0, "health": 85.0, "primary_education": 85.0}
TARGET_SOURCE = "Kế hoạch CCHC của tỉnh: thủ tục hành chính ≥ 90%; đất đai, xây dựng, đầu tư ≥ 85%; y tế, giáo dục công ≥ 85%"
SECTORS = tuple(s.value for s in Sector)
INDEX_OVERALL = N_("Tỷ lệ hài lòng chung (câu hỏi đánh giá chung)")
INDEX_SIPAS = N_("Chỉ số SIPAS (trung bình 5 yếu tố)")


class Label(Message):
    """A text kept per language beside the code rather than in the catalog (SECTOR_LABELS, SIPAS_LABELS, the
    questionnaire's item texts). Like a Message it is its Vietnamese text as a ``str`` (exports stay
    Vietnamese) and ``translated(lang)`` is what a page shows, falling back to Vietnamese."""

    texts: Mapping[str, str]

    def __new__(cls, texts: Mapping[str, str]) -> Label:
        text = str.__new__(cls, texts["vi"])
        text.message_id, text.params, text.texts = texts["vi"], {}, dict(texts)
        return text

    def translated(self, lang: str) -> str:
        return self.texts.get(lang) or self.texts["vi"]

    def __reduce__(self) -> tuple[Any, ...]:  # str's own pickling would pass the text, not the mapping
        return (Label, (dict(self.texts),))

    def __repr__(self) -> str:
        return f"Label({dict(self.texts)!r})"

    @classmethod
    def of_messages(cls, parts: Sequence[str], separator: str = ", ") -> Label:
        """Catalog message ids joined, e.g. the chosen collection modes, in every available language."""
        return cls({lang: separator.join(gettext(p, lang) for p in parts) for lang in supported_languages()})


@dataclass(frozen=True)
class ReportSettings:
    """The choices a report is made with; shown on the report and in every export."""

    modes: tuple[str, ...] = ("qr", "enumerator", "paper")
    include_flagged: bool = False
    weighting: str = "unweighted"
    min_n: int = 30
    sae: bool = False
    max_cv: float = 0.30
    level: float = 0.95

    def describe(self) -> list[tuple[Message, str]]:
        """(setting, value) rows: Vietnamese as strings (exports), ``translated(lang)`` on a page."""
        return [
            (Message(N_("Hình thức thu thập")), Label.of_messages([MODE_LABELS[m] for m in self.modes])),
            (Message(N_("Phiếu bị gắn cờ")), Message(N_("Có tính") if self.include_flagged else N_("Loại trừ"))),
            (Message(N_("Gia quyền")), Message(WEIGHTINGS[self.weighting])),
            (Message(N_("Số phiếu tối thiểu để công bố")), str(self.min_n)),
            (Message(N_("Ngưỡng hệ số biến thiên (CV)")), f"{self.max_cv:.0%}"),
            (Message(N_("Ước lượng cho địa bàn nhỏ (Fay–Herriot)")), Message(N_("Bật") if self.sae else N_("Tắt"))),
            (Message(N_("Độ tin cậy của khoảng")), f"{self.level:.0%}"),
        ]

    def query(self) -> dict[str, Any]:
        return {"modes": list(self.modes), "flagged": "1" if self.include_flagged else "0",
                "weighting": self.weighting, "min_n": str(self.min_n), "sae": "1" if self.sae else "0"}


def parse_settings(
    *, modes: Sequence[str] | None = None, flagged: str | None = None, weighting: str | None = None,
    min_n: str | None = None, sae: str | None = None,
) -> ReportSettings:
    chosen = tuple(m for m in MODES if m in set(modes or ())) or ReportSettings().modes
    if modes and set(modes) - set(MODES):
        raise ValidationFailed(N_("Hình thức thu thập không hợp lệ."))
    w = weighting or "unweighted"
    if w not in WEIGHTINGS:
        raise ValidationFailed(N_("Cách gia quyền không hợp lệ."))
    try:
        n = int(min_n) if min_n else 30
    except ValueError:
        raise ValidationFailed(N_("Số phiếu tối thiểu phải là số nguyên.")) from None
    if not 1 <= n <= 10000:
        raise ValidationFailed(N_("Số phiếu tối thiểu phải từ 1 đến 10000."))
    return ReportSettings(modes=chosen, include_flagged=flagged == "1", weighting=w, min_n=n, sae=sae == "1")


class ReportDataError(ValidationFailed):
    """The report cannot be computed with these settings (e.g. missing transaction volumes)."""


def sector_label(sector: str) -> Label:
    return Label(SECTOR_LABELS.get(sector) or {"vi": sector})


DESIGN_NOTES = {
    "design": N_(
        "Thiết kế mẫu: mẫu điều tra hộ của đợt điều tra thực địa. Tầng = tầng của kế hoạch chọn mẫu; đơn vị mẫu bậc "
        "một (PSU) = thôn/bản được chọn; trọng số thiết kế của mỗi phiếu = 1 / (xác suất chọn xã × xác suất chọn "
        "thôn/bản × xác suất chọn hộ), ghi trên từng phiếu điều tra viên và phiếu giấy. Tầng chỉ có một PSU: cách "
        "“adjust” của gói R survey."),
    "other": N_(
        "Thiết kế mẫu: tầng = xã/phường; đơn vị mẫu bậc một (PSU) = điểm tiếp nhận với phiếu QR/ki-ốt, xã × hình thức "
        "với phiếu điều tra viên và phiếu giấy; trọng số ban đầu của mỗi phiếu là 1 (trọng số thiết kế của mẫu điều "
        "tra hộ chỉ được dùng khi chọn gia quyền theo trọng số thiết kế). Tầng chỉ có một PSU: cách “adjust” của gói "
        "R survey."),
}


def method_notes(settings: ReportSettings, *, weight_note: str = "") -> list[str]:
    """The method note printed on every report and export. Each note is a Message: Vietnamese as a string (the
    exports), ``translated(lang)`` on a page."""
    weighting = weight_note or Message(WEIGHTINGS[settings.weighting])
    if settings.weighting in LINEAR_WEIGHTINGS:
        variance = Message(N_("Gia quyền: {weighting}. Sai số chuẩn tính theo tuyến tính hoá Taylor theo tầng và PSU "
                              "(như hàm svymean của gói R survey)."), weighting=weighting)
    else:
        variance = Message(N_("Gia quyền: {weighting}. Sai số chuẩn tính theo tuyến tính hoá Taylor, có tính đến hiệu "
                              "chỉnh (như hàm svyrecvar của gói R survey)."), weighting=weighting)
    notes: list[str] = [
        Message(N_("Tỷ lệ hài lòng của một câu hỏi = tỷ lệ (có trọng số) người trả lời “Hài lòng” hoặc “Rất hài lòng” "
                   "(mức 4–5) trong số người đã trả lời câu đó; “Không áp dụng / Không biết” không tính vào mẫu số. "
                   "Chỉ tính các câu hỏi thang 5 mức.")),
        Message(N_("{index}: tỷ lệ hài lòng với câu hỏi đánh giá chung của bảng hỏi từng lĩnh vực."),
                index=Message(INDEX_OVERALL)),
        Message(N_("{index}: trung bình các yếu tố; mỗi yếu tố là trung bình tỷ lệ hài lòng các câu hỏi của yếu tố "
                   "đó (theo phương pháp SIPAS, Quyết định 1001/QĐ-BNV). Phương sai tính bằng tuyến tính hoá toàn bộ "
                   "véc-tơ tỷ lệ."), index=Message(INDEX_SIPAS)),
        Message(DESIGN_NOTES["design" if settings.weighting == "design" else "other"]),
        variance,
        Message(N_("Khoảng tin cậy {level:.0%}: khoảng logit cho tỷ lệ (bậc tự do = số PSU − số tầng); khoảng t cho "
                   "chỉ số SIPAS."), level=settings.level),
        Message(N_("Ô có ít hơn {min_n} phiếu không được công bố (đánh dấu “—”); ô có hệ số biến thiên (CV) trên "
                   "{max_cv:.0%} được đánh dấu “cần thận trọng”."), min_n=settings.min_n, max_cv=settings.max_cv),
        Message(N_("Phiếu bị gắn cờ nghi vấn được tính.") if settings.include_flagged
                else N_("Phiếu bị gắn cờ nghi vấn bị loại trừ.")),
        Message(N_("Đánh giá từng hồ sơ theo Quyết định 766/QĐ-TTg là tổng thể giao dịch, không phải mẫu: không gộp "
                   "vào các ước lượng này.")),
    ]
    if settings.sae:
        notes.append(Message(N_(
            "Ước lượng cho địa bàn nhỏ: mô hình Fay–Herriot (REML, chỉ hệ số chặn) trên ước lượng trực tiếp của các "
            "xã; ô đủ số phiếu và CV đạt ngưỡng giữ ước lượng trực tiếp, các ô khác dùng EBLUP; sai số theo Prasad–Rao.")))
    return notes
