"""Command line: `survey-app init | demo | serve | points … | users …`. All commands honour SURVEY_DATABASE_URL."""

from __future__ import annotations

import argparse
import csv
import secrets
import sys
from collections.abc import Callable, Sequence
from typing import cast

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from .config import Settings
from .db import make_engine, make_sessionmaker
from .errors import ConfigurationError, ValidationFailed
from .migrate import upgrade_to_head
from .models import User
from .questionnaire import QuestionnaireError, Sector
from .security import hash_password
from .services import accounts, audit, catalogue, privacy
from .services import points as points_service
from .services import questionnaires as q_service

ROLES = accounts.ROLES


def _session(settings: Settings) -> Session:
    return make_sessionmaker(make_engine(settings.database_url))()


def prepare_database(settings: Settings, *, quiet: bool = False) -> None:
    """Migrations, the administrative catalogue and the questionnaires (idempotent)."""
    upgrade_to_head(settings.database_url)
    with _session(settings) as session:
        added_p, added_c = catalogue.load_catalogue(session)
        published = q_service.sync_questionnaires(session, directory=settings.questionnaire_dir)
        session.commit()
    if not quiet:
        if added_p or added_c:
            print(f"Đã nạp danh mục hành chính: {added_p} tỉnh/thành phố, {added_c} xã/phường/đặc khu.")
        for row in published:
            print(f"Đã công bố bảng hỏi {row.questionnaire_id} phiên bản {row.version}.")


def cmd_init(args: argparse.Namespace, settings: Settings) -> int:
    prepare_database(settings)
    print("Cơ sở dữ liệu đã sẵn sàng.")
    return 0


def _nodelay_listener() -> None:
    """TCP_NODELAY on uvicorn's listening socket (Linux copies it to accepted sockets). With --workers > 1
    uvicorn binds the socket itself and leaves Nagle on, so each keep-alive response waited ~40 ms for a
    delayed ACK (uvicorn issue #3149; measured 60 ms → 10 ms for a form page)."""
    import socket

    import uvicorn.config

    original = uvicorn.config.Config.bind_socket
    if getattr(original, "nodelay", False):
        return

    def bind_socket(self: uvicorn.config.Config) -> socket.socket:
        sock = original(self)
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    bind_socket.nodelay = True  # type: ignore[attr-defined]
    uvicorn.config.Config.bind_socket = bind_socket  # type: ignore[method-assign]


def _serve(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    import uvicorn

    _nodelay_listener()
    uvicorn.run(
        "survey_app.app:create_app", factory=True, host=host, port=port, workers=workers,
        proxy_headers=True, log_level="info", access_log=False,  # access logs would carry client IPs
    )


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    prepare_database(settings, quiet=True)
    _serve(settings, args.host, args.port, args.workers)
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from .services import demo

    if settings.environment == "development":
        settings = settings.model_copy(update={"environment": "demo"})
    settings = settings.model_copy(update={"base_url": f"http://{args.host}:{args.port}"})
    prepare_database(settings)
    password = secrets.token_urlsafe(9)
    with _session(settings) as session:
        summary = demo.seed(session, province_code=settings.province_code, responses=args.responses)
        _upsert_user(session, "admin", password, "admin", display_name="Quản trị viên (demo)", must_change=False)
        session.commit()
        links = [
            (p.name, points_service.public_url(settings.base_url, p.token))
            for p in points_service.list_points(session, active_only=True)[:8]
        ]
    from .services import audio

    if audio.espeak_available():
        cmd_audio(args, settings)
    print(f"\nDữ liệu demo Sơn La: {summary}")
    print(f"\nĐăng nhập quản trị: {settings.base_url}/login  —  tên: admin  mật khẩu: {password}")
    print("Một số mã QR (mở trên điện thoại hoặc trình duyệt):")
    for name, url in links:
        print(f"  {name}: {url}")
    print()
    if args.no_serve:
        return 0
    import os

    os.environ["SURVEY_BASE_URL"] = settings.base_url
    os.environ.setdefault("SURVEY_ENVIRONMENT", "demo")
    _serve(settings, args.host, args.port)
    return 0


def _upsert_user(
    session: Session, username: str, password: str, role: str, *, display_name: str = "", must_change: bool = True
) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        user = User(username=username, password_hash="", role=role)
        session.add(user)
    user.password_hash = hash_password(password)
    user.role = role
    user.display_name = display_name or user.display_name
    user.active = True
    user.must_change_password = must_change
    session.flush()
    return user


def cmd_points(args: argparse.Namespace, settings: Settings) -> int:
    with _session(settings) as session:
        if args.action == "add":
            commune = catalogue.get_commune(session, args.commune)
            if commune is None:
                print(f"Không tìm thấy xã/phường có mã {args.commune}.", file=sys.stderr)
                return 2
            try:
                point = points_service.create_point(
                    session, commune=commune, sector=args.sector, name=args.name, code=args.code
                )
            except ValidationFailed as exc:
                print(exc.detail, file=sys.stderr)
                return 2
            session.commit()
            print(f"{point.code}\t{points_service.public_url(settings.base_url, point.token)}")
        elif args.action == "list":
            for p in points_service.list_points(session):
                state = "đang dùng" if p.active else "đã thu hồi"
                print(f"{p.code}\t{p.name}\t{p.commune.name}\t{p.sector}\t{state}")
        else:
            writer = csv.writer(sys.stdout, lineterminator="\n")
            for row in points_service.export_rows(session, base_url=settings.base_url):
                writer.writerow(row)
    return 0


def cmd_users(args: argparse.Namespace, settings: Settings) -> int:
    with _session(settings) as session:
        if args.action == "create":
            password = args.password or secrets.token_urlsafe(12)
            try:
                accounts.create_user(
                    session, actor=None, username=args.username, role=args.role, password=password,
                    display_name=args.name or "", sectors=args.sector or [], commune_codes=args.commune or [],
                    min_length=settings.min_password_length,
                )
            except ValidationFailed as exc:
                print(exc.detail, file=sys.stderr)
                return 2
            session.commit()
            print(f"Đã tạo {args.username} ({args.role}); mật khẩu ban đầu: {password} (phải đổi khi đăng nhập lần đầu)")
        elif args.action == "list":
            for u in session.scalars(select(User).order_by(User.username)):
                print(f"{u.username}\t{u.role}\t{'hoạt động' if u.active else 'đã khoá'}")
        else:
            user = session.scalar(select(User).where(User.username == args.username))
            if user is None:
                print(f"Không tìm thấy tài khoản {args.username}.", file=sys.stderr)
                return 2
            if args.action == "disable":
                user.active = False
                user.session_version += 1
                audit.record(session, actor=None, actor_name="cli", action="user_disabled", target_type="user",
                             target_id=user.id)
            else:
                user.role = args.role
                audit.record(session, actor=None, actor_name="cli", action="user_updated", target_type="user",
                             target_id=user.id, details={"role": args.role})
            session.commit()
            print("Đã cập nhật.")
    return 0


def cmd_privacy(args: argparse.Namespace, settings: Settings) -> int:
    for h in privacy.inventory(
        contact_retention_days=settings.contact_retention_days,
        rate_event_retention_hours=settings.rate_event_retention_hours,
    ):
        print(f"- {h.what}\n    Mục đích: {h.why}\n    Nơi lưu: {h.where}")
        print(f"    Thời hạn: {h.how_long}\n    Ai được xem: {h.who_sees}")
    print("Không lưu địa chỉ IP gốc ở bất kỳ đâu (kể cả nhật ký máy chủ: access log tắt).")
    return 0


def cmd_retention(args: argparse.Namespace, settings: Settings) -> int:
    with _session(settings) as session:
        removed = privacy.apply_retention(
            session, rate_event_retention_hours=settings.rate_event_retention_hours,
            contact_retention_days=settings.contact_retention_days,
        )
        session.commit()
    print("Đã xoá: " + ", ".join(f"{k}: {v}" for k, v in removed.items()))
    return 0


def cmd_reports(args: argparse.Namespace, settings: Settings) -> int:
    """Bring the report sums up to date now (after a bulk import or an upgrade) instead of at the first report."""
    from .services import report_frames, report_stats

    with _session(settings) as session:
        catalogue = report_frames.sector_items(session)
        added = report_stats.refresh(session, catalogue)
        session.commit()
        version = report_stats.version(session)
        report_stats.tidy_queue(cast(Engine, session.get_bind()))
    print(f"Đã cập nhật số liệu tổng hợp cho báo cáo: thêm {added} phiếu (phiên bản {version}).")
    return 0


def cmd_audio(args: argparse.Namespace, settings: Settings) -> int:
    from .services import audio

    if not audio.espeak_available():
        print("Chưa cài espeak-ng (apt-get install espeak-ng): không tạo được giọng đọc tổng hợp.", file=sys.stderr)
        return 2
    with _session(settings) as session:
        versions = [q_service.current_for_sector(session, sector=s.value) for s in Sector]
        total_new = total_old = 0
        for version in versions:
            if version is None:
                continue
            q = q_service.parsed(version)
            for lang in ("vi",):
                new, old = audio.build(q, audio_dir=settings.audio_dir, lang=lang)
                total_new, total_old = total_new + new, total_old + old
    print(f"Giọng đọc tổng hợp: {total_new} tệp mới, {total_old} tệp đã có ({settings.audio_dir}).")
    return 0


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from .backup import BackupError, backup, restore

    try:
        if args.command == "backup":
            size = backup(settings.database_url, Path(args.path))
            print(f"Đã sao lưu vào {args.path} ({size} byte).")
        else:
            restore(settings.database_url, Path(args.path))
            print(f"Đã khôi phục từ {args.path}.")
    except BackupError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    return 0


def cmd_translations(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from .services import translations

    qdir = Path(args.questionnaire_dir) if args.questionnaire_dir else settings.questionnaire_dir
    try:
        if args.action == "export":
            translations.export_workbook(Path(args.path), lang=args.lang, questionnaire_dir=qdir)
            print(f"Đã xuất bảng tính dịch «{args.lang}» vào {args.path}.")
            return 0
        result = translations.import_workbook(Path(args.path), questionnaire_dir=qdir)
    except translations.TranslationImportError as exc:
        print(f"Không nhập được bản dịch ({len(exc.problems)} lỗi); chưa ghi gì:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 2
    except (ValueError, OSError) as exc:
        print(f"Lỗi: {exc}", file=sys.stderr)
        return 2
    print(f"Đã ghi giao diện «{result.lang}»: {result.interface_translated}/{result.interface_total} chuỗi đã dịch "
          f"(chuỗi chưa dịch hiện bằng tiếng Việt) → {result.catalog}.")
    for path in result.questionnaires:
        print(f"Đã tạo phiên bản bảng hỏi mới {path.name}.")
    print("Khởi động lại máy chủ (và chạy `survey-app init` nếu có bảng hỏi mới) để dùng bản dịch.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="survey-app", description="Khảo sát sự hài lòng của người dân")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("init", help="migrations, administrative catalogue and questionnaires").set_defaults(func=cmd_init)

    for name, func in (("serve", cmd_serve), ("demo", cmd_demo)):
        p = sub.add_parser(name)
        p.add_argument("--host", default="127.0.0.1")
        p.add_argument("--port", type=int, default=8000)
        p.set_defaults(func=func)
        if name == "serve":
            p.add_argument("--workers", type=int, default=1)
        else:
            p.add_argument("--responses", type=int, default=3000)
            p.add_argument("--no-serve", action="store_true", help="seed and print, do not start the server")

    points = sub.add_parser("points", help="reception points").add_subparsers(dest="action", required=True)
    add = points.add_parser("add")
    add.add_argument("--commune", required=True, help="official commune code, e.g. 03667")
    add.add_argument("--sector", required=True, choices=[s.value for s in Sector])
    add.add_argument("--name", required=True)
    add.add_argument("--code")
    points.add_parser("list")
    points.add_parser("export", help="CSV to standard output")
    sub.choices["points"].set_defaults(func=cmd_points)

    users = sub.add_parser("users", help="staff accounts").add_subparsers(dest="action", required=True)
    create = users.add_parser("create")
    create.add_argument("username")
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--name")
    create.add_argument("--password", help="initial password (generated when omitted)")
    create.add_argument("--sector", action="append", choices=[s.value for s in Sector], help="repeat for several")
    create.add_argument("--commune", action="append", help="official commune code; repeat for several")
    users.add_parser("list")
    users.add_parser("disable").add_argument("username")
    set_role = users.add_parser("set-role")
    set_role.add_argument("username")
    set_role.add_argument("role", choices=ROLES)
    sub.choices["users"].set_defaults(func=cmd_users)

    priv = sub.add_parser("privacy", help="personal data inventory").add_subparsers(dest="action", required=True)
    priv.add_parser("inventory")
    sub.choices["privacy"].set_defaults(func=cmd_privacy)
    ret = sub.add_parser("retention", help="delete data past its retention period").add_subparsers(dest="action", required=True)
    ret.add_parser("apply")
    sub.choices["retention"].set_defaults(func=cmd_retention)
    rep = sub.add_parser("reports", help="report sums (sufficient statistics)").add_subparsers(dest="action", required=True)
    rep.add_parser("refresh", help="add every pending response to the report sums now")
    sub.choices["reports"].set_defaults(func=cmd_reports)
    aud = sub.add_parser("audio", help="audio prompts").add_subparsers(dest="action", required=True)
    aud.add_parser("build", help="synthesise missing Vietnamese prompts with espeak-ng")
    sub.choices["audio"].set_defaults(func=cmd_audio)
    tr = sub.add_parser("translations", help="translator spreadsheets (XLSX)").add_subparsers(dest="action", required=True)
    tr_export = tr.add_parser("export", help="interface and questionnaire texts to translate")
    tr_export.add_argument("--lang", required=True, help="ISO 639 code of the target language, e.g. tdd")
    tr_export.add_argument("path")
    tr_import = tr.add_parser("import", help="validate and install a translated spreadsheet")
    tr_import.add_argument("path")
    for p in (tr_export, tr_import):
        p.add_argument("--questionnaire-dir", help="default: the configured questionnaire directory")
    sub.choices["translations"].set_defaults(func=cmd_translations)
    for name, help_text in (("backup", "online backup of the SQLite database"), ("restore", "restore a backup")):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("path")
        p.set_defaults(func=cmd_backup)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    func: Callable[[argparse.Namespace, Settings], int] = args.func
    try:
        settings = Settings()
        return func(args, settings)
    except (ConfigurationError, QuestionnaireError) as exc:
        print(f"Lỗi: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:  # e.g. settings refused (placeholder secret in production)
        print(f"Lỗi cấu hình: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
