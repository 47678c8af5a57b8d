"""Conversation storage: SQLAlchemy models, Alembic migrations and the Store that records turns."""

from .store import Store, StoreError, TurnRecord, default_url, migrate, schema_revision

__all__ = ["Store", "StoreError", "TurnRecord", "default_url", "migrate", "schema_revision"]
