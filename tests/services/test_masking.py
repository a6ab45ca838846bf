"""Masking personal data in realistic Vietnamese free text."""

from __future__ import annotations

import pytest

from survey_app.services.masking import EMAIL_MASK, ID_MASK, PHONE_MASK, PLATE_MASK, mask, mask_email, mask_phone


@pytest.mark.parametrize("phone", [
    "0912345678", "0912 345 678", "0912.345.678", "0912-345-678", "+84 912 345 678", "+84912345678",
    "(+84) 388 123 456", "84912345678", "0388.12.34.56", "0212 3852 123", "02123852123",
])
def test_phone_formats(phone: str) -> None:
    text = f"Xin liên hệ số {phone} để trao đổi thêm."
    assert mask(text) == f"Xin liên hệ số {PHONE_MASK} để trao đổi thêm."


@pytest.mark.parametrize("number", ["014095001234", "034 095 001 234", "123456789", "050 123 456"])
def test_citizen_id_numbers(number: str) -> None:
    assert mask(f"CCCD/CMND số {number}, cấp ngày 12/5/2021.") == f"CCCD/CMND số {ID_MASK}, cấp ngày 12/5/2021."


@pytest.mark.parametrize("plate", ["26A-123.45", "29-B1 123.45", "29B1-123.45", "30A 12345", "51LD-123.45", "26B1-1234"])
def test_plate_numbers(plate: str) -> None:
    assert mask(f"Xe {plate} đỗ chắn cổng trạm y tế.") == f"Xe {PLATE_MASK} đỗ chắn cổng trạm y tế."


def test_emails() -> None:
    assert mask("Gửi về lo.van.sang@gmail.com hoặc sang_lv@sonla.gov.vn nhé") == (
        f"Gửi về {EMAIL_MASK} hoặc {EMAIL_MASK} nhé"
    )


def test_realistic_complaint() -> None:
    text = (
        "Ngày 12/3/2026 tôi (Lò Văn Sáng, CCCD 014095001234) đến Trạm Y tế xã Chiềng Cơi khám cho con, "
        "chờ 3 tiếng không ai tiếp. Cán bộ còn gợi ý 'bồi dưỡng' 200.000 đồng. Xe máy 26-B1 234.56 của tôi "
        "bị giữ ở bãi. Liên hệ: 0912.345.678 hoặc sang.lv@gmail.com."
    )
    masked = mask(text)
    for secret in ("014095001234", "234.56", "0912.345.678", "sang.lv@gmail.com"):
        assert secret not in masked
    # What the agency needs to act on stays readable.
    for kept in ("12/3/2026", "Trạm Y tế xã Chiềng Cơi", "3 tiếng", "200.000 đồng", "Lò Văn Sáng"):
        assert kept in masked
    assert masked.count(PHONE_MASK) == 1 and masked.count(ID_MASK) == 1 and masked.count(PLATE_MASK) == 1


@pytest.mark.parametrize("text", [
    "Lệ phí cấp sổ đỏ là 150.000.000 đồng, quá cao so với niêm yết.",
    "Tôi nộp 123456789 đồng tiền sử dụng đất.",
    "Mã hồ sơ 000.00.12.H55-240101-0001 đã quá hạn 15 ngày.",
    "Đường dây nóng 1900 9095 không ai nghe máy lúc 8h30.",
    "Năm 2025 phòng 203 tầng 2 có 45 người chờ, số thứ tự 120.",
])
def test_ordinary_numbers_are_kept(text: str) -> None:
    assert mask(text) == text


def test_contact_masks_show_only_a_hint() -> None:
    assert mask_phone("0912 345 678") == "••••••••78"
    assert mask_email("sang.lv@gmail.com") == "s•••@gmail.com"
    assert mask(None) == "" and mask_phone(None) == "" and mask_email("") == ""
