"""Interface translations. The Vietnamese text is the message id (gettext style), so the strings can
be extracted to catalogs; English is kept here until the Babel catalogs replace this table."""

from __future__ import annotations

from collections.abc import Mapping

SUPPORTED_LANGUAGES = ("vi", "en")
LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English"}

EN: Mapping[str, str] = {
    "Khảo sát sự hài lòng": "Satisfaction survey",
    "Gửi ý kiến": "Submit",
    "Tiếp": "Next",
    "Quay lại": "Back",
    "Cảm ơn Ông/Bà!": "Thank you!",
    "Ý kiến của Ông/Bà đã được ghi nhận.": "Your answers have been recorded.",
    "Mã phiếu": "Response code",
    "Không tìm thấy trang": "Page not found",
    "Mã QR này không còn hiệu lực hoặc không tồn tại. Vui lòng quét mã tại quầy tiếp nhận hoặc hỏi cán bộ.":
        "This QR code is no longer valid or does not exist. Please scan the code at the desk or ask a member of staff.",
    "Vui lòng chọn một câu trả lời.": "Please choose an answer.",
    "Vui lòng trả lời câu hỏi này.": "Please answer this question.",
    "Câu trả lời không hợp lệ.": "This answer is not valid.",
    "Vui lòng nhập một số.": "Please enter a number.",
    "Vui lòng nhập một số nguyên.": "Please enter a whole number.",
    "Giá trị phải từ {min} đến {max}.": "The value must be between {min} and {max}.",
    "Giá trị phải từ {min} trở lên.": "The value must be at least {min}.",
    "Giá trị phải không quá {max}.": "The value must be at most {max}.",
    "Nội dung quá dài (tối đa {max} ký tự).": "The text is too long (at most {max} characters).",
    "Phiếu còn {count} câu cần sửa. Vui lòng xem các câu được đánh dấu.":
        "{count} answers need attention. Please check the marked questions.",
    "Phiên làm phiếu đã hết hạn. Các câu trả lời vẫn được giữ, vui lòng bấm Gửi lại.":
        "The form session expired. Your answers are kept; please press Submit again.",
    "Không áp dụng / Không biết": "Not applicable / Don't know",
    "Rất không hài lòng": "Very dissatisfied",
    "Không hài lòng": "Dissatisfied",
    "Bình thường": "Neutral",
    "Hài lòng": "Satisfied",
    "Rất hài lòng": "Very satisfied",
    "Có": "Yes",
    "Không": "No",
    "(không bắt buộc)": "(optional)",
    "Phiếu khảo sát ẩn danh: không thu thập họ tên, số điện thoại, địa chỉ hay địa chỉ IP.":
        "This survey is anonymous: no name, phone number, address or IP address is collected.",
    "Kết quả chỉ dùng để cải thiện chất lượng dịch vụ công và được công bố dưới dạng tổng hợp.":
        "Results are used only to improve public services and are published as aggregates.",
    "Khoảng {minutes} phút": "About {minutes} minutes",
    "Trang {page} / {pages}": "Page {page} of {pages}",
    "Quét mã QR để đánh giá mức độ hài lòng": "Scan the QR code to rate your satisfaction",
    "Hoặc truy cập": "Or visit",
    "Đăng nhập": "Log in",
    "Đăng xuất": "Log out",
    "Tên đăng nhập": "Username",
    "Mật khẩu": "Password",
    "Tên đăng nhập hoặc mật khẩu không đúng.": "Wrong username or password.",
    "Lỗi máy chủ": "Server error",
    "Đã có lỗi xảy ra. Câu trả lời của Ông/Bà chưa bị mất; vui lòng thử lại sau ít phút.":
        "Something went wrong. Your answers are not lost; please try again in a few minutes.",
    "Yêu cầu không hợp lệ": "Invalid request",
    "Không có quyền truy cập": "Access denied",
    "Dữ liệu gửi lên quá lớn.": "The submitted data is too large.",
    "Điểm tiếp nhận": "Reception points",
    "In tất cả áp phích": "Print all posters",
    "In áp phích": "Print poster",
    "Quản trị": "Administration",
    "Thiết bị này đã gửi ý kiến cho điểm tiếp nhận này gần đây. Mỗi lượt giao dịch chỉ cần đánh giá một lần.":
        "This device already sent answers for this reception point recently. One rating per visit is enough.",
    "Có quá nhiều phiếu được gửi từ mạng này. Các câu trả lời vẫn được giữ; vui lòng gửi lại sau ít phút.":
        "Too many responses were sent from this network. Your answers are kept; please send again in a few minutes.",
    "Cán bộ các sở, ngành và xã chỉ xem số liệu tổng hợp; góp ý bằng chữ chỉ cơ quan có trách nhiệm được xem.":
        "Departments and communes see only aggregated figures; written comments are seen only by the agency responsible.",
    "Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau {minutes} phút.":
        "Too many failed logins. Please try again in {minutes} minutes.",
    "Đổi mật khẩu": "Change password",
    "Hệ thống tạm thời gián đoạn": "Service temporarily unavailable",
    "Câu trả lời của Ông/Bà chưa được gửi nhưng vẫn còn trên trang này. Vui lòng bấm Gửi lại sau ít phút.":
        "Your answers were not sent yet but are kept on this page. Please press Send again in a few minutes.",
    "Gửi lại": "Send again",
    "Nghe": "Listen",
    "Giọng đọc do máy tổng hợp (chưa phải giọng người thật).": "The voice is computer-generated (not yet a human recording).",
    "Phiếu dễ dùng: nghe câu hỏi và chạm vào khuôn mặt": "Easy form: listen and tap a face",
    "Mật khẩu hiện tại": "Current password",
    "Mật khẩu mới": "New password",
    "Nhập lại mật khẩu mới": "Repeat the new password",
    "Vui lòng đổi mật khẩu ban đầu trước khi tiếp tục.": "Please change your initial password before continuing.",
    "Hai mật khẩu mới không khớp.": "The two new passwords do not match.",
    # Feedback (góp ý, phản ánh, kiến nghị) and the tracking page.
    "Góp ý, phản ánh, kiến nghị": "Feedback and complaints",
    "Gửi góp ý, phản ánh, kiến nghị": "Send feedback or a complaint",
    "Nội dung góp ý, phản ánh": "Your feedback",
    "Gửi góp ý": "Send feedback",
    "Tra cứu mã theo dõi": "Look up a tracking code",
    "Tra cứu góp ý, phản ánh": "Track your feedback",
    "Mã theo dõi": "Tracking code",
    "Tra cứu": "Look up",
    "Trạng thái": "Status",
    "Ngày tiếp nhận": "Received on",
    "Hạn trả lời": "Answer due by",
    "Ngày trả lời": "Answered on",
    "Ngày kết thúc": "Closed on",
    "Đã tiếp nhận": "Received",
    "Đã chuyển cơ quan xử lý": "Forwarded to the responsible agency",
    "Đang xử lý": "In progress",
    "Đã trả lời": "Answered",
    "Đã đóng": "Closed",
    "Trả lời của cơ quan có trách nhiệm": "Answer from the responsible agency",
    "Bạn có hài lòng với cách giải quyết?": "Are you satisfied with how this was handled?",
    "Gửi đánh giá": "Send rating",
    "Ông/Bà đã đánh giá": "Your rating",
    "Số điện thoại": "Phone number",
    "Tôi muốn được liên hệ trả lời": "I would like to be contacted with the answer",
    "Ông/Bà có muốn được trả lời trực tiếp không?": "Would you like a direct reply?",
    "Đã gửi góp ý. Vui lòng ghi lại mã theo dõi để xem kết quả trả lời.":
        "Feedback sent. Please note the tracking code to see the answer.",
    "Cảm ơn Ông/Bà đã đánh giá cách giải quyết.": "Thank you for rating how this was handled.",
    "Không tìm thấy mã theo dõi này. Vui lòng kiểm tra lại (mã gồm 10 ký tự, ví dụ ABCDE-23456).":
        "This tracking code was not found. Please check it (10 characters, e.g. ABCDE-23456).",
    "Tra cứu quá nhiều lần. Vui lòng thử lại sau ít phút.": "Too many look-ups. Please try again in a few minutes.",
}

CATALOGS: Mapping[str, Mapping[str, str]] = {"en": EN}


def gettext(message: str, lang: str, **params: object) -> str:
    """Translate a Vietnamese message id into ``lang`` (falling back to Vietnamese), then format."""
    text = CATALOGS.get(lang, {}).get(message, message) if lang != "vi" else message
    return text.format(**params) if params else text


def pick_language(requested: str | None, default: str = "vi") -> str:
    return requested if requested in SUPPORTED_LANGUAGES else default
