"""People: users, their API tokens (expiry, revocation), sign-in links, web sessions; project regions as slugs.

Existing tokens become people: one user per distinct e-mail (lower-cased), with the role, name and projects of
its first token (by creation time); every token is linked to its user, none is lost. An e-mail that had tokens of
several roles keeps the first role; its other tokens say so in their label (and the migration logs a warning).
The projection's free-text `projects.region` becomes a region slug (labellisation/regions.py): the text read as
a region's slug or name, else the department's region; a row whose department names no region either is left
as it was (and logged).

Revision ID: 0003_people
Revises: 0002
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from alembic import op

from labellisation.records.tables import UtcDateTime
from labellisation.regions import BY_SLUG, UnknownRegion, region_from_text, region_of_department

revision = "0003_people"
down_revision = "0002"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

FK_TOKEN_USER = "fk_api_tokens_user_id_users"

_users = sa.table(
    "users",
    sa.column("id", sa.Integer),
    sa.column("email", sa.String),
    sa.column("name", sa.String),
    sa.column("role", sa.String),
    sa.column("regions", sa.JSON),
    sa.column("projects", sa.JSON),
    sa.column("active", sa.Boolean),
    sa.column("created_at", UtcDateTime()),
    sa.column("last_seen_at", UtcDateTime()),
)
_tokens = sa.table(
    "api_tokens",
    sa.column("token_hash", sa.String),
    sa.column("role", sa.String),
    sa.column("name", sa.String),
    sa.column("email", sa.String),
    sa.column("projects", sa.JSON),
    sa.column("created_at", UtcDateTime()),
    sa.column("user_id", sa.Integer),
    sa.column("label", sa.String),
)
_projects = sa.table(
    "projects", sa.column("project_id", sa.String), sa.column("region", sa.String), sa.column("department", sa.String)
)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("regions", sa.JSON, nullable=False),
        sa.Column("projects", sa.JSON, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("last_seen_at", UtcDateTime()),
    )
    op.create_index("ix_users_email", "users", ["email"], unique=True)
    op.create_table(
        "sign_in_links",
        sa.Column("link_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("used_at", UtcDateTime()),
    )
    op.create_index("ix_sign_in_links_user_id", "sign_in_links", ["user_id"])
    op.create_table(
        "sessions",
        sa.Column("session_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("last_seen_at", UtcDateTime(), nullable=False),
        sa.Column("ended_at", UtcDateTime()),
        sa.Column("csrf_token", sa.String(64), nullable=False),
    )
    op.create_index("ix_sessions_user_id", "sessions", ["user_id"])

    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("user_id", sa.Integer))
        batch.add_column(sa.Column("prefix", sa.String(16)))
        batch.add_column(sa.Column("label", sa.String(200)))
        batch.add_column(sa.Column("expires_at", UtcDateTime()))
        batch.add_column(sa.Column("revoked_at", UtcDateTime()))
        batch.add_column(sa.Column("last_used_at", UtcDateTime()))
    _people_from_tokens(op.get_bind())
    with op.batch_alter_table("api_tokens") as batch:
        batch.alter_column("user_id", existing_type=sa.Integer, nullable=False)
        batch.create_foreign_key(FK_TOKEN_USER, "users", ["user_id"], ["id"])
        batch.create_index("ix_api_tokens_user_id", ["user_id"])
        for column in ("role", "name", "email", "projects"):
            batch.drop_column(column)

    _regions_as_slugs(op.get_bind())


def _people_from_tokens(bind: sa.Connection) -> None:
    rows = bind.execute(
        sa.select(_tokens.c.token_hash, _tokens.c.role, _tokens.c.name, _tokens.c.email, _tokens.c.projects,
                  _tokens.c.created_at).order_by(_tokens.c.created_at, _tokens.c.token_hash)
    ).all()  # fmt: skip
    people: dict[str, dict[str, Any]] = {}
    for token_hash, role, name, raw_email, projects, created_at in rows:
        email = raw_email.strip().lower()
        ids = [str(p) for p in (projects or {}).get("ids", [])]
        person = people.setdefault(
            email,
            {"email": email, "name": name, "role": role, "projects": [], "created_at": created_at, "tokens": []},
        )
        label = None
        if role != person["role"]:
            label = f"migré : jeton « {role} », personne « {person['role']} »"
            log.warning("0003_people: %s had tokens of several roles; kept %s (its first)", email, person["role"])
        elif role == "holder":
            person["projects"].extend(p for p in ids if p not in person["projects"])
        person["tokens"].append((token_hash, label))
    for person in people.values():
        user_id = bind.execute(
            _users.insert().values(
                email=person["email"], name=person["name"], role=person["role"], regions=[],
                projects=person["projects"], active=True, created_at=person["created_at"], last_seen_at=None,
            ).returning(_users.c.id)
        ).scalar_one()  # fmt: skip
        for token_hash, label in person["tokens"]:
            bind.execute(
                _tokens.update().where(_tokens.c.token_hash == token_hash).values(user_id=user_id, label=label)
            )


def region_slug(text: str, department: str) -> str | None:
    """The slug for a free-text region: the text as a region, else the department's region; None if neither."""
    try:
        return region_from_text(text).slug
    except UnknownRegion:
        pass
    try:
        return region_of_department(department).slug
    except UnknownRegion:
        return None


def _regions_as_slugs(bind: sa.Connection) -> None:
    for project_id, text, department in bind.execute(sa.select(_projects)).all():
        slug = region_slug(text, department)
        if slug is None:
            log.warning("0003_people: project %s: region %r, department %r: no region; left as is",
                        project_id, text, department)  # fmt: skip
        elif slug != text:
            bind.execute(_projects.update().where(_projects.c.project_id == project_id).values(region=slug))


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("role", sa.String(32)))
        batch.add_column(sa.Column("name", sa.String(200)))
        batch.add_column(sa.Column("email", sa.String(320)))
        batch.add_column(sa.Column("projects", sa.JSON))
    bind = op.get_bind()
    for user_id, email, name, role, projects in bind.execute(
        sa.select(_users.c.id, _users.c.email, _users.c.name, _users.c.role, _users.c.projects)
    ).all():
        bind.execute(
            _tokens.update()
            .where(_tokens.c.user_id == user_id)
            .values(role=role, name=name, email=email, projects={"ids": list(projects or [])})
        )
    with op.batch_alter_table("api_tokens") as batch:
        for column, kind in (("role", sa.String(32)), ("name", sa.String(200)), ("email", sa.String(320))):
            batch.alter_column(column, existing_type=kind, nullable=False)
        batch.alter_column("projects", existing_type=sa.JSON, nullable=False)
        batch.drop_index("ix_api_tokens_user_id")
        batch.drop_constraint(FK_TOKEN_USER, type_="foreignkey")
        for column in ("user_id", "prefix", "label", "expires_at", "revoked_at", "last_used_at"):
            batch.drop_column(column)
    for project_id, region, _department in bind.execute(sa.select(_projects)).all():
        if region in BY_SLUG:
            bind.execute(
                _projects.update().where(_projects.c.project_id == project_id).values(region=BY_SLUG[region].name)
            )
    op.drop_index("ix_sessions_user_id", table_name="sessions")
    op.drop_table("sessions")
    op.drop_index("ix_sign_in_links_user_id", table_name="sign_in_links")
    op.drop_table("sign_in_links")
    op.drop_index("ix_users_email", table_name="users")
    op.drop_table("users")
