"""The conversation store: opens any SQLAlchemy URL (a SQLite file by default, Postgres in production),
upgrades its schema in place with the Alembic migrations, and records sessions, turns with their tool
results and citations, feedback and handoffs.

When the database is unreachable, locked or read-only, `record_turn` keeps the turn in an in-memory
backlog (bounded) and reports the failure; the next successful write flushes the backlog first, so no turn
is lost while the process lives. Text arrives already masked: this module never sees raw personal data.
It does not decide what to record (the turn pipeline does).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from .models import ChatSession, Citation, Feedback, Handoff, ToolResult, Turn

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BACKLOG_LIMIT = 10_000


class StoreError(RuntimeError):
    """The database cannot be used; the message says why."""


@dataclass
class TurnRecord:
    session_id: str
    user_text: str
    reply_text: str
    status: str = "ok"
    channel: str = "cli"
    risk_category: str | None = None
    risk_level: str | None = None
    sentiment: str | None = None
    intent: str | None = None
    answerable: bool = True
    pii_counts: dict[str, int] = field(default_factory=dict)
    timings_ms: dict[str, float] = field(default_factory=dict)
    guard: dict[str, Any] = field(default_factory=dict)
    tool_results: dict[str, dict] = field(default_factory=dict)
    citations: list[dict] = field(default_factory=list)  # n, doc_id, title, section, url, score
    handoff: dict | None = None  # reason, priority, summary


def default_url() -> str:
    import os

    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "fernhollow"
    return f"sqlite:///{base / 'assistant.db'}"


def _sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # pragma: no cover - driver callback
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=5000")
        with contextlib.suppress(Exception):  # read-only file: WAL cannot be set, reads still work
            cur.execute("PRAGMA journal_mode=WAL")
        cur.close()


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the schema in place to `revision` (Alembic); existing rows are kept."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def schema_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


class Store:
    def __init__(self, url: str | None = None, *, upgrade: bool = True) -> None:
        self.url = url or default_url()
        if self.url.startswith("sqlite:///") and not self.url.startswith("sqlite:///:memory:"):
            Path(self.url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.engine = create_engine(self.url, pool_pre_ping=True)
        except Exception as exc:  # bad URL or missing driver
            raise StoreError(f"cannot open database {self.url!r}: {exc}") from exc
        if self.engine.dialect.name == "sqlite":
            _sqlite_pragmas(self.engine)
        self.Session = sessionmaker(self.engine, expire_on_commit=False)
        self.backlog: deque[TurnRecord] = deque(maxlen=BACKLOG_LIMIT)
        self.lock = threading.Lock()
        self.last_error: str | None = None
        if upgrade:
            try:
                migrate(self.engine)
            except SQLAlchemyError as exc:
                raise StoreError(f"cannot prepare the database {self.url!r}: {exc}") from exc

    # -- writing ---------------------------------------------------------------------------------
    def _ensure_session(self, db: Session, session_id: str, channel: str) -> ChatSession:
        s = db.get(ChatSession, session_id)
        if s is None:
            s = ChatSession(id=session_id, channel=channel)
            db.add(s)
            db.flush()
        return s

    def _write(self, db: Session, rec: TurnRecord) -> int:
        s = self._ensure_session(db, rec.session_id, rec.channel)
        index = db.scalar(select(func.count()).select_from(Turn).where(Turn.session_id == s.id)) or 0
        turn = Turn(
            session_id=s.id,
            index=index,
            user_text=rec.user_text,
            reply_text=rec.reply_text,
            status=rec.status,
            risk_category=rec.risk_category,
            risk_level=rec.risk_level,
            sentiment=rec.sentiment,
            intent=rec.intent,
            answerable=rec.answerable,
            pii_counts=rec.pii_counts,
            timings_ms=rec.timings_ms,
            guard=rec.guard,
        )
        turn.tool_results = [ToolResult(tool=k, output=v) for k, v in rec.tool_results.items()]
        turn.citations = [Citation(**c) for c in rec.citations]
        db.add(turn)
        db.flush()
        if rec.handoff:
            db.add(Handoff(session_id=s.id, turn_id=turn.id, **rec.handoff))
        return turn.id

    def record_turn(self, rec: TurnRecord) -> int | None:
        """Store the turn (after any backlog). Returns its id, or None when the database failed and the
        turn waits in the backlog (`last_error` says why)."""
        with self.lock:
            self.backlog.append(rec)
            written: int | None = None
            try:
                with self.Session.begin() as db:
                    while self.backlog:
                        pending = self.backlog[0]
                        written = self._write(db, pending)
                        self.backlog.popleft()
                self.last_error = None
                return written
            except SQLAlchemyError as exc:
                self.last_error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
                log.error("turn not stored yet (%d waiting): %s", len(self.backlog), self.last_error)
                return None

    def flush_backlog(self) -> int:
        """Try to write waiting turns; returns how many are still waiting."""
        with self.lock:
            try:
                with self.Session.begin() as db:
                    while self.backlog:
                        self._write(db, self.backlog[0])
                        self.backlog.popleft()
                self.last_error = None
            except SQLAlchemyError as exc:
                self.last_error = str(exc).splitlines()[0][:200]
            return len(self.backlog)

    def add_feedback(self, turn_id: int, rating: int, comment: str = "") -> int:
        if rating not in (-1, 1):
            raise ValueError("rating must be +1 (thumbs up) or -1 (thumbs down)")
        with self.Session.begin() as db:
            if db.get(Turn, turn_id) is None:
                raise KeyError(f"no turn with id {turn_id}")
            fb = Feedback(turn_id=turn_id, rating=rating, comment=comment)
            db.add(fb)
            db.flush()
            return fb.id

    def create_handoff(
        self, session_id: str, reason: str, summary: str, priority: str = "normal", turn_id: int | None = None
    ) -> int:
        with self.Session.begin() as db:
            self._ensure_session(db, session_id, "cli")
            h = Handoff(
                session_id=session_id, turn_id=turn_id, reason=reason, priority=priority, summary=summary
            )
            db.add(h)
            db.flush()
            return h.id

    # -- reading ---------------------------------------------------------------------------------
    def history(self, session_id: str, limit: int = 6) -> list[tuple[str, str]]:
        """The last `limit` (user, reply) pairs of a session, oldest first (masked text)."""
        with self.Session() as db:
            rows = db.scalars(
                select(Turn).where(Turn.session_id == session_id).order_by(Turn.index.desc()).limit(limit)
            ).all()
        return [(t.user_text, t.reply_text) for t in reversed(rows)]

    def session_exists(self, session_id: str) -> bool:
        with self.Session() as db:
            return db.get(ChatSession, session_id) is not None

    def turns(self, session_id: str) -> list[Turn]:
        with self.Session() as db:
            return list(db.scalars(select(Turn).where(Turn.session_id == session_id).order_by(Turn.index)))

    def handoffs(self, session_id: str | None = None) -> list[Handoff]:
        with self.Session() as db:
            q = select(Handoff).order_by(Handoff.id)
            if session_id:
                q = q.where(Handoff.session_id == session_id)
            return list(db.scalars(q))

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
            return True
        except SQLAlchemyError:
            return False
