"""The database schema (SQLAlchemy 2 declarative models): sessions, turns, tool results, citations,
feedback and handoffs. Every text column holds masked text only; the turn pipeline masks before it records.
Portable types only (JSON, String, DateTime), so the same models run on SQLite and Postgres. Schema changes
go through the Alembic migrations beside this file, never `create_all` on a live database.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class ChatSession(Base):
    __tablename__ = "sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), default="cli")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now, onupdate=now)
    turns: Mapped[list[Turn]] = relationship(back_populates="session", order_by="Turn.index")


class Turn(Base):
    __tablename__ = "turns"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    index: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    user_text: Mapped[str] = mapped_column(Text)  # masked
    reply_text: Mapped[str] = mapped_column(Text)  # masked
    status: Mapped[str] = mapped_column(String(16), default="ok")  # ok | fallback | refused | error
    risk_category: Mapped[str | None] = mapped_column(String(32), nullable=True)
    risk_level: Mapped[str | None] = mapped_column(String(16), nullable=True)
    sentiment: Mapped[str | None] = mapped_column(String(16), nullable=True)
    intent: Mapped[str | None] = mapped_column(String(64), nullable=True)
    answerable: Mapped[bool] = mapped_column(Boolean, default=True)
    pii_counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    timings_ms: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    guard: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # what the guards changed, and why
    session: Mapped[ChatSession] = relationship(back_populates="turns")
    tool_results: Mapped[list[ToolResult]] = relationship(cascade="all, delete-orphan", lazy="selectin")
    citations: Mapped[list[Citation]] = relationship(cascade="all, delete-orphan", lazy="selectin")


class ToolResult(Base):
    __tablename__ = "tool_results"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    turn_id: Mapped[int] = mapped_column(ForeignKey("turns.id", ondelete="CASCADE"), index=True)
    tool: Mapped[str] = mapped_column(String(64))
    output: Mapped[dict[str, Any]] = mapped_column(JSON)


class Citation(Base):
    __tablename__ = "citations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    turn_id: Mapped[int] = mapped_column(ForeignKey("turns.id", ondelete="CASCADE"), index=True)
    n: Mapped[int] = mapped_column(Integer)
    doc_id: Mapped[str] = mapped_column(String(128))
    title: Mapped[str] = mapped_column(String(256))
    section: Mapped[str] = mapped_column(String(256))
    url: Mapped[str] = mapped_column(String(512))
    score: Mapped[float] = mapped_column(Float)


class Feedback(Base):
    __tablename__ = "feedback"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    turn_id: Mapped[int] = mapped_column(ForeignKey("turns.id", ondelete="CASCADE"), index=True)
    rating: Mapped[int] = mapped_column(Integer)  # +1 or -1
    comment: Mapped[str] = mapped_column(Text, default="")  # masked
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class Handoff(Base):
    __tablename__ = "handoffs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    turn_id: Mapped[int | None] = mapped_column(ForeignKey("turns.id"), nullable=True)
    reason: Mapped[str] = mapped_column(String(256))
    priority: Mapped[str] = mapped_column(String(16), default="normal")  # normal | urgent
    summary: Mapped[str] = mapped_column(Text)  # masked
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
