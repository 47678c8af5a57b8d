"""Reads a settings dataclass's fields from `<PREFIX><FIELD>` environment variables, parsed by the type of
each field's default (bool, int, float, comma-separated tuple, JSON object, else the string). One copy for
every config in the project (knowledge, bot, bot.llm, bot.web). It does not validate values: each
dataclass's `__post_init__` does, and says what to fix."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import MISSING, fields
from typing import Any

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def parse_env_value(name: str, raw: str, default: Any, error: type[Exception] = ValueError) -> Any:
    """`raw` converted to the type of `default`; `error` names the variable and the bad value."""
    try:
        if isinstance(default, bool):
            if raw.strip().lower() not in _TRUE | _FALSE:
                raise ValueError("expected true/false, yes/no, on/off or 1/0")
            return raw.strip().lower() in _TRUE
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
        if isinstance(default, tuple):
            return tuple(x.strip() for x in raw.split(",") if x.strip())
        if isinstance(default, dict):
            value = json.loads(raw)
            if not isinstance(value, dict):
                raise ValueError("expected a JSON object")
            return value
    except ValueError as exc:  # json.JSONDecodeError is a ValueError
        kind = type(default).__name__
        raise error(f"{name}={raw!r} is not a valid {kind}: {exc}") from exc
    return raw


def env_values(
    cls: type, prefix: str, error: type[Exception] = ValueError, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """{field: parsed value} for every field of dataclass `cls` whose `<prefix><FIELD>` variable is set."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for f in fields(cls):
        name = f"{prefix}{f.name.upper()}"
        raw = env.get(name)
        if raw is None:
            continue
        if f.default is not MISSING:
            default = f.default
        elif f.default_factory is not MISSING:
            default = f.default_factory()
        else:
            default = None
        values[f.name] = parse_env_value(name, raw, default, error)
    return values
