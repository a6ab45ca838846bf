"""feedback: items, contacts, history, notes, routing table, keyword rules, holidays; app_user.agency

Revision ID: b5f1e1d00007
Revises: b5f1e1d00006
Create Date: 2026-11-22

The seed data (default routing of Sơn La 2026, keyword rules, public holidays 2026-2027) is frozen here
on purpose: the admin edits it afterwards in the application, never by changing this file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b5f1e1d00007"
down_revision: str | None = "b5f1e1d00006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Sơn La 2026 assignments (../shared/domain.md). "@ubnd_xa" = the People's Committee of the item's commune.
ROUTING = [
    ("health", None, "Sở Y tế"),
    ("primary_education", None, "Sở Giáo dục và Đào tạo"),
    ("land_certificate", None, "Sở Nông nghiệp và Môi trường"),
    ("one_stop", None, "@ubnd_xa"),
    ("one_stop", "hanh chinh cong tinh", "Văn phòng UBND tỉnh"),  # the provincial service centre
    ("construction_permit", None, "Sở Xây dựng"),
]
# (folded keyword, category, sector hint or None, priority)
KEYWORDS = [
    ("phong bi", "misconduct", None, 10), ("boi duong", "misconduct", None, 10),
    ("nhung nhieu", "misconduct", None, 10), ("tieu cuc", "misconduct", None, 10),
    ("voi tien", "misconduct", None, 10), ("hoi lo", "misconduct", None, 10),
    ("tien ngoai", "misconduct", None, 10), ("ep hoc them", "misconduct", "primary_education", 10),
    ("thai do", "attitude", None, 5), ("cau gat", "attitude", None, 5), ("quat nat", "attitude", None, 5),
    ("hach dich", "attitude", None, 5), ("tho lo", "attitude", None, 5), ("to tieng", "attitude", None, 5),
    ("khong nhiet tinh", "attitude", None, 5), ("kho chiu", "attitude", None, 3),
    ("cho lau", "waiting", None, 4), ("cho doi", "waiting", None, 4), ("tre hen", "waiting", None, 4),
    ("qua han", "waiting", None, 4), ("xep hang", "waiting", None, 4), ("cham tre", "waiting", None, 4),
    ("le phi", "fees", None, 3), ("vien phi", "fees", "health", 3), ("hoc phi", "fees", "primary_education", 3),
    ("chi phi", "fees", None, 3), ("thu tien", "fees", None, 3), ("phu thu", "fees", None, 3),
    ("nha ve sinh", "facilities", None, 2), ("ghe ngoi", "facilities", None, 2), ("nuoc uong", "facilities", None, 2),
    ("co so vat chat", "facilities", None, 2), ("phong cho", "facilities", None, 2), ("xuong cap", "facilities", None, 2),
    ("may lanh", "facilities", None, 2), ("dieu hoa", "facilities", None, 2),
    ("thu tuc", "procedure", None, 1), ("ho so", "procedure", None, 1), ("giay to", "procedure", None, 1),
    ("bo sung", "procedure", None, 1), ("rom ra", "procedure", None, 1),
    ("giay phep xay dung", "procedure", "construction_permit", 1),
    ("so do", "procedure", "land_certificate", 1), ("quyen su dung dat", "procedure", "land_certificate", 1),
    ("chuyen mon", "quality", None, 1), ("chan doan", "quality", "health", 1), ("kham benh", "quality", "health", 1),
    ("giao vien", "quality", "primary_education", 0), ("chat luong", "quality", None, 0),
]
# Concrete dates (no lunar arithmetic). 2027 Tết dates are the expected plan: check the official notice.
HOLIDAYS = [
    ("2026-01-01", "Tết Dương lịch"),
    ("2026-02-16", "Tết Nguyên đán"), ("2026-02-17", "Tết Nguyên đán"), ("2026-02-18", "Tết Nguyên đán"),
    ("2026-02-19", "Tết Nguyên đán"), ("2026-02-20", "Tết Nguyên đán"),
    ("2026-04-27", "Giỗ Tổ Hùng Vương (10/3 âm lịch, nghỉ bù cho Chủ nhật 26/4)"),
    ("2026-04-30", "Ngày Chiến thắng 30/4"), ("2026-05-01", "Ngày Quốc tế Lao động 1/5"),
    ("2026-09-01", "Quốc khánh (ngày liền kề)"), ("2026-09-02", "Quốc khánh 2/9"),
    ("2027-01-01", "Tết Dương lịch"),
    ("2027-02-05", "Tết Nguyên đán"), ("2027-02-08", "Tết Nguyên đán"), ("2027-02-09", "Tết Nguyên đán"),
    ("2027-02-10", "Tết Nguyên đán (nghỉ bù)"), ("2027-02-11", "Tết Nguyên đán (nghỉ bù)"),
    ("2027-04-16", "Giỗ Tổ Hùng Vương (10/3 âm lịch)"),
    ("2027-04-30", "Ngày Chiến thắng 30/4"), ("2027-05-03", "Ngày Quốc tế Lao động (nghỉ bù cho Thứ Bảy 1/5)"),
    ("2027-09-02", "Quốc khánh 2/9"), ("2027-09-03", "Quốc khánh (ngày liền kề)"),
]


def upgrade() -> None:
    op.create_table('feedback_keyword_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('keyword', sa.String(length=100), nullable=False),
    sa.Column('category', sa.String(length=30), nullable=False),
    sa.Column('sector', sa.String(length=30), nullable=True),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_keyword_rule')),
    sa.UniqueConstraint('keyword', 'category', name=op.f('uq_feedback_keyword_rule_keyword_category'))
    )
    op.create_table('holiday',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_holiday')),
    sa.UniqueConstraint('day', name=op.f('uq_holiday_day'))
    )
    op.create_table('feedback_routing_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sector', sa.String(length=30), nullable=False),
    sa.Column('commune_id', sa.Integer(), nullable=True),
    sa.Column('point_match', sa.String(length=120), nullable=True),
    sa.Column('agency', sa.String(length=200), nullable=False),
    sa.Column('deadline_days', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['commune_id'], ['commune.id'], name=op.f('fk_feedback_routing_rule_commune_id_commune')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_routing_rule'))
    )
    with op.batch_alter_table('feedback_routing_rule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_routing_rule_sector'), ['sector'], unique=False)

    op.create_table('feedback_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tracking_code', sa.String(length=12), nullable=False),
    sa.Column('submission_id', sa.String(length=36), nullable=True),
    sa.Column('channel', sa.String(length=24), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=30), nullable=False),
    sa.Column('sector', sa.String(length=30), nullable=False),
    sa.Column('commune_id', sa.Integer(), nullable=True),
    sa.Column('reception_point_id', sa.Integer(), nullable=True),
    sa.Column('comment_id', sa.Integer(), nullable=True),
    sa.Column('agency', sa.String(length=200), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=True),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('public_answer', sa.Text(), nullable=True),
    sa.Column('wants_reply', sa.Boolean(), nullable=False),
    sa.Column('rating', sa.String(length=1), nullable=True),
    sa.Column('rated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.String(length=80), nullable=True),
    sa.ForeignKeyConstraint(['comment_id'], ['comment.id'], name=op.f('fk_feedback_item_comment_id_comment'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['commune_id'], ['commune.id'], name=op.f('fk_feedback_item_commune_id_commune')),
    sa.ForeignKeyConstraint(['reception_point_id'], ['reception_point.id'], name=op.f('fk_feedback_item_reception_point_id_reception_point')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_item')),
    sa.UniqueConstraint('comment_id', name=op.f('uq_feedback_item_comment_id')),
    sa.UniqueConstraint('submission_id', name=op.f('uq_feedback_item_submission_id')),
    sa.UniqueConstraint('tracking_code', name=op.f('uq_feedback_item_tracking_code'))
    )
    with op.batch_alter_table('feedback_item', schema=None) as batch_op:
        batch_op.create_index('ix_feedback_item_agency_status', ['agency', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_feedback_item_commune_id'), ['commune_id'], unique=False)
        batch_op.create_index('ix_feedback_item_sector_received', ['sector', 'received_at'], unique=False)

    op.create_table('feedback_contact',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=30), nullable=True),
    sa.Column('email', sa.String(length=200), nullable=True),
    sa.Column('consent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['feedback_item.id'], name=op.f('fk_feedback_contact_item_id_feedback_item'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_contact')),
    sa.UniqueConstraint('item_id', name=op.f('uq_feedback_contact_item_id'))
    )
    op.create_table('feedback_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=80), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('from_value', sa.String(length=200), nullable=True),
    sa.Column('to_value', sa.String(length=200), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['feedback_item.id'], name=op.f('fk_feedback_event_item_id_feedback_item'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_event'))
    )
    with op.batch_alter_table('feedback_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_event_item_id'), ['item_id'], unique=False)

    op.create_table('feedback_note',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('author', sa.String(length=80), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['feedback_item.id'], name=op.f('fk_feedback_note_item_id_feedback_item'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_note'))
    )
    with op.batch_alter_table('feedback_note', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_note_item_id'), ['item_id'], unique=False)

    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agency', sa.String(length=200), nullable=True))
    _seed()


def _seed() -> None:
    routing = sa.table(
        "feedback_routing_rule", sa.column("sector", sa.String), sa.column("commune_id", sa.Integer),
        sa.column("point_match", sa.String), sa.column("agency", sa.String), sa.column("deadline_days", sa.Integer),
        sa.column("active", sa.Boolean),
    )
    op.bulk_insert(routing, [
        {"sector": s, "commune_id": None, "point_match": m, "agency": a, "deadline_days": 15, "active": True}
        for s, m, a in ROUTING
    ])
    keywords = sa.table(
        "feedback_keyword_rule", sa.column("keyword", sa.String), sa.column("category", sa.String),
        sa.column("sector", sa.String), sa.column("priority", sa.Integer),
    )
    op.bulk_insert(keywords, [{"keyword": k, "category": c, "sector": s, "priority": p} for k, c, s, p in KEYWORDS])
    holidays = sa.table("holiday", sa.column("day", sa.Date), sa.column("name", sa.String))
    op.bulk_insert(holidays, [{"day": dt.date.fromisoformat(d), "name": n} for d, n in HOLIDAYS])


def downgrade() -> None:
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_column('agency')

    with op.batch_alter_table('feedback_note', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_note_item_id'))

    op.drop_table('feedback_note')
    with op.batch_alter_table('feedback_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_event_item_id'))

    op.drop_table('feedback_event')
    op.drop_table('feedback_contact')
    with op.batch_alter_table('feedback_item', schema=None) as batch_op:
        batch_op.drop_index('ix_feedback_item_sector_received')
        batch_op.drop_index(batch_op.f('ix_feedback_item_commune_id'))
        batch_op.drop_index('ix_feedback_item_agency_status')

    op.drop_table('feedback_item')
    with op.batch_alter_table('feedback_routing_rule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_routing_rule_sector'))

    op.drop_table('feedback_routing_rule')
    op.drop_table('holiday')
    op.drop_table('feedback_keyword_rule')
