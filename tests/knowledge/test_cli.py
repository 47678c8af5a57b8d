"""`python -m knowledge` end to end with the real model: build (with a bad file in the folder), search,
stats, eval --json, and clear errors with exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from knowledge import HashingEmbedder, KnowledgeConfig
from knowledge.builder import build_index
from knowledge.cli import main

pytestmark = pytest.mark.slow


def test_build_search_stats_eval(tmp_path: Path, copy_of_sample_docs: Path, capsys) -> None:
    (copy_of_sample_docs / "broken.pdf").write_bytes(b"%PDF-1.7 truncated")
    (copy_of_sample_docs / "notes.rtf").write_text("{\\rtf1 hi}")
    idx = tmp_path / "index"
    common = ["--docs", str(copy_of_sample_docs), "--index", str(idx)]
    assert main(["build", *common]) == 0
    out = capsys.readouterr().out
    assert "skipped 2 file(s)" in out and "broken.pdf" in out and "notes.rtf: unsupported extension" in out

    assert main(["search", *common, "--json", "freeze my card"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["answerable"] and res["passages"][0]["url"].startswith("https://www.fernhollowbank.example/")

    assert main(["stats", *common, "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["documents"] >= 30 and stats["dimension"] == 384 and len(stats["skipped_at_build"]) == 2

    qs = tmp_path / "qs.jsonl"
    qs.write_text(
        "\n".join(
            [
                json.dumps(
                    {
                        "id": "a",
                        "question": "atm withdrawal limit per day",
                        "doc": "debit-cards",
                        "section": "x",
                        "answerable": True,
                    }
                ),
                json.dumps(
                    {
                        "id": "b",
                        "question": "banana bread recipe",
                        "doc": None,
                        "section": None,
                        "answerable": False,
                    }
                ),
            ]
        )
    )
    assert main(["eval", *common, "--questions", str(qs), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["questions"] == 2 and set(report["modes"]) == {"dense", "hybrid"}
    assert report["modes"]["hybrid"]["document"]["recall@5"] == 1.0
    assert report["modes"]["hybrid"]["section"]["recall@5"] == 0.0  # section "x" does not exist


def test_missing_index_is_a_clear_error(tmp_path: Path, capsys) -> None:
    assert main(["search", "--index", str(tmp_path / "none"), "hello"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no index at") and "python -m knowledge build" in err


def test_index_from_another_model_is_refused(tmp_path: Path, small_docs: Path) -> None:
    cfg = KnowledgeConfig(docs_dir=small_docs, index_dir=tmp_path / "index")
    build_index(cfg, HashingEmbedder(), progress=False)
    proc = subprocess.run(
        [sys.executable, "-m", "knowledge", "search", "--index", str(cfg.index_dir), "limits"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "built with embedding model 'hashing-fake'" in proc.stderr and "--full" in proc.stderr


def test_empty_folder_is_a_clear_error(tmp_path: Path, capsys) -> None:
    (tmp_path / "empty").mkdir()
    assert main(["build", "--docs", str(tmp_path / "empty"), "--index", str(tmp_path / "i")]) == 2
    assert "no document could be indexed" in capsys.readouterr().err


def test_bad_config_is_a_clear_error(monkeypatch, capsys) -> None:
    monkeypatch.setenv("KNOWLEDGE_TOP_K", "many")
    assert main(["stats"]) == 2
    assert "KNOWLEDGE_TOP_K='many' is not a valid int" in capsys.readouterr().err
