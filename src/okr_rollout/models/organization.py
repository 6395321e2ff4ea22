from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from okr_rollout.db import Base
from okr_rollout.models._columns import JsonType, utcnow


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    headcount: Mapped[int] = mapped_column(Integer)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    crm_id: Mapped[str | None] = mapped_column(String(200), unique=True, index=True)
    mission: Mapped[str | None] = mapped_column(Text)
    vision_1y: Mapped[str | None] = mapped_column(Text)
    vision_5y: Mapped[str | None] = mapped_column(Text)
    vision_10y: Mapped[str | None] = mapped_column(Text)
    strategies: Mapped[list[str]] = mapped_column(JsonType, default=list)
    challenges: Mapped[list[str]] = mapped_column(JsonType, default=list)
    okr_software: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class Person(Base):
    """Someone at a client organization, or (organization_id NULL) an external coach."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    roles: Mapped[list[str]] = mapped_column(JsonType, default=list)
    locale: Mapped[str] = mapped_column(String(16), default="en")
    # How e-mail reaches the person: one message per reminder, or one digest a day or a week; none is sent in
    # the quiet hours (local hours from .. until, in their timezone, else their organization's).
    email_digest: Mapped[str] = mapped_column(String(16), default="daily", server_default="daily")
    quiet_from_hour: Mapped[int | None] = mapped_column(Integer, default=None)
    quiet_until_hour: Mapped[int | None] = mapped_column(Integer, default=None)
    timezone: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    memberships: Mapped[list[PersonDepartment]] = relationship(lazy="raise", back_populates="person")

    __mapper_args__ = {"version_id_col": version}


class CalendarFeed(Base):
    """One secret URL of a person's calendar feed; a person may have several (a phone, a laptop, a shared
    calendar), each revoked on its own. Only the SHA-256 of the secret is stored, as for API tokens."""

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Department(Base):
    __tablename__ = "departments"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    is_pilot: Mapped[bool] = mapped_column(Boolean, default=False)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class PersonDepartment(Base):
    __tablename__ = "person_departments"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    department_id: Mapped[int] = mapped_column(
        ForeignKey("departments.id", ondelete="CASCADE"), primary_key=True, index=True
    )

    person: Mapped[Person] = relationship(lazy="raise", back_populates="memberships")
