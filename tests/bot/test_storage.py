"""The conversation store on a real SQLite file: Alembic upgrades an existing database in place, turns
round-trip with their tool results and citations, feedback and handoffs attach to them, and a database
that refuses writes keeps turns in the backlog until it is back."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import create_engine

from bot.storage import Store, StoreError, TurnRecord, migrate, schema_revision


def rec(session="s1", text="hello", **kw) -> TurnRecord:
    return TurnRecord(session_id=session, user_text=text, reply_text="hi [1]", **kw)


def test_upgrade_in_place_keeps_existing_rows(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    migrate(engine, "0001")
    assert schema_revision(engine) == "0001"
    with sqlite3.connect(tmp_path / "old.db") as db:
        db.execute("INSERT INTO sessions VALUES ('old', 'cli', '2026-01-01', '2026-01-01')")
        db.execute(
            'INSERT INTO turns (session_id, "index", created_at, user_text, reply_text, status, pii_counts, '
            "timings_ms) VALUES ('old', 0, '2026-01-01', 'q', 'a', 'ok', '{}', '{}')"
        )
        cols = {r[1] for r in db.execute("PRAGMA table_info(turns)")}
    assert "guard" not in cols
    store = Store(url)  # opening upgrades to head
    assert schema_revision(store.engine) == "0002"
    assert store.history("old") == [("q", "a")]
    assert store.turns("old")[0].guard == {} and store.turns("old")[0].answerable is True


def test_turn_round_trip_with_tools_citations_feedback_handoff(tmp_path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'a.db'}")
    cite = {"n": 1, "doc_id": "fees", "title": "Fees", "section": "ATM", "url": "https://x", "score": 0.7}
    tid = store.record_turn(
        rec(tool_results={"risk": {"category": "none"}}, citations=[cite],
            handoff={"reason": "asked", "priority": "urgent", "summary": "customer: [CARD] lost"})
    )  # fmt: skip
    t = store.turns("s1")[0]
    assert (
        t.id == tid and t.tool_results[0].output == {"category": "none"} and t.citations[0].url == "https://x"
    )
    assert store.add_feedback(tid, -1, "wrong") > 0
    with pytest.raises(KeyError):
        store.add_feedback(9999, 1)
    assert store.handoffs("s1")[0].priority == "urgent"
    store.record_turn(rec(text="second"))
    assert [u for u, _ in store.history("s1")] == ["hello", "second"]
    assert store.turns("s1")[1].index == 1


def test_locked_database_backlog_then_flush(tmp_path) -> None:
    path = tmp_path / "locked.db"
    store = Store(f"sqlite:///{path}")
    store.record_turn(rec())
    locker = sqlite3.connect(path, timeout=0.1)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        with store.engine.connect() as c:
            c.exec_driver_sql("PRAGMA busy_timeout=100")
        store.engine.dispose()
        from sqlalchemy import event

        @event.listens_for(store.engine, "connect")
        def _short(dbapi_conn, _):  # fail fast in the test instead of waiting 5 s
            dbapi_conn.execute("PRAGMA busy_timeout=100")

        assert store.record_turn(rec(text="while locked")) is None
        assert len(store.backlog) == 1 and "locked" in store.last_error
    finally:
        locker.rollback()
        locker.close()
    assert store.record_turn(rec(text="after")) is not None  # flushes the backlog first
    assert [u for u, _ in store.history("s1")] == ["hello", "while locked", "after"]


def test_bad_url_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(StoreError, match="cannot"):
        Store("nosuchdriver://x/y")
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(StoreError):
        Store(f"sqlite:///{tmp_path / 'dir.db'}")
