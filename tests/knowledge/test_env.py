"""knowledge.env: one parser for every `<PREFIX><FIELD>` environment override in the project."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from knowledge import env_values


class Bad(ValueError):
    pass


@dataclass
class Demo:
    flag: bool = False
    count: int = 1
    ratio: float = 0.5
    names: tuple[str, ...] = ()
    table: dict = field(default_factory=dict)
    where: Path = field(default_factory=lambda: Path("/tmp"))
    text: str = ""


def test_each_type_is_parsed_from_its_default() -> None:
    env = {"X_FLAG": "yes", "X_COUNT": "3", "X_RATIO": "0.25", "X_NAMES": "a, b,,c", "X_TABLE": '{"k": [1]}',
           "X_WHERE": "/srv", "X_TEXT": "hello", "OTHER_COUNT": "9"}  # fmt: skip
    assert env_values(Demo, "X_", Bad, env) == {
        "flag": True, "count": 3, "ratio": 0.25, "names": ("a", "b", "c"), "table": {"k": [1]},
        "where": "/srv", "text": "hello",
    }  # fmt: skip
    assert env_values(Demo, "X_", Bad, {}) == {}


@pytest.mark.parametrize(
    ("name", "raw"), [("X_FLAG", "maybe"), ("X_COUNT", "many"), ("X_RATIO", "half"), ("X_TABLE", "[1]")]
)
def test_bad_values_name_the_variable(name: str, raw: str) -> None:
    with pytest.raises(Bad, match=re.escape(f"{name}={raw!r} is not a valid")):
        env_values(Demo, "X_", Bad, {name: raw})
