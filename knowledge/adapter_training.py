"""Train the query adapter (see adapter.py) with PyTorch: a multi-positive contrastive loss over all
chunks of the index (the chunks of the labelled section are the positives), an L2 pull of the adapter
towards zero (identity map), and early stopping on a held-out 20% of the training questions. The adapter is specific to a library:
its training questions cover every section (validation on unseen sections shows it does not transfer to
sections without training questions, so retrain it when the documents change). Kept apart so that serving never imports torch."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from .adapter import QueryAdapter
from .retriever import Retriever


def _section_recall(q: np.ndarray, vecs: np.ndarray, positives: list[np.ndarray], k: int = 5) -> float:
    top = np.argsort(-(q @ vecs.T), axis=1)[:, :k]
    return float(np.mean([bool(set(t) & set(p)) for t, p in zip(top, positives, strict=True)]))


def train_adapter(
    retriever: Retriever,
    train_files: list[Path],
    out: Path,
    *,
    epochs: int = 300,
    lr: float = 3e-3,
    l2_grid: tuple[float, ...] = (1e-3, 1e-2, 1e-1),
    temperature_grid: tuple[float, ...] = (0.03, 0.05, 0.1),
    seed: int = 0,
    progress: bool = True,
) -> dict[str, Any]:
    import torch
    from tqdm.auto import tqdm

    torch.manual_seed(seed)
    rows = [json.loads(x) for f in train_files for x in Path(f).read_text("utf-8").splitlines() if x.strip()]
    chunks = retriever.chunks
    by_section: dict[tuple[str, str], list[int]] = {}
    for i, c in enumerate(chunks):
        by_section.setdefault((c.doc_id, c.section), []).append(i)
    rows = [r for r in rows if (r["doc"], r["section"]) in by_section]
    q = retriever.embedder.encode([r["question"] for r in rows], batch_size=64)
    pos = [np.array(by_section[(r["doc"], r["section"])]) for r in rows]
    rng = np.random.default_rng(seed)
    sections = sorted({(r["doc"], r["section"]) for r in rows})
    val = rng.random(len(rows)) < 0.2  # held-out questions; their sections have other training questions

    vecs = torch.from_numpy(retriever.index.vectors.astype(np.float32))
    mask = torch.zeros(len(rows), len(chunks), dtype=torch.bool)
    for i, p in enumerate(pos):
        mask[i, torch.from_numpy(p)] = True
    qt = torch.from_numpy(q)

    def fit(
        train_idx: np.ndarray, n_epochs: int, watch: np.ndarray | None, l2: float, temperature: float
    ) -> tuple[torch.Tensor, list, int]:
        delta = torch.zeros(q.shape[1], q.shape[1], requires_grad=True)
        opt = torch.optim.Adam([delta], lr=lr)
        ti = torch.from_numpy(train_idx)
        history, best = [], (-1.0, 0, None)
        for epoch in tqdm(range(n_epochs), desc="Training query adapter", disable=not progress):
            x = qt[ti] + qt[ti] @ delta
            x = x / x.norm(dim=1, keepdim=True)
            logits = x @ vecs.T / temperature
            pos_lse = torch.logsumexp(logits.masked_fill(~mask[ti], -1e9), dim=1)
            loss = (torch.logsumexp(logits, dim=1) - pos_lse).mean() + l2 * (delta**2).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            if watch is not None and (epoch + 1) % 10 == 0:
                with torch.no_grad():
                    a = QueryAdapter(delta.detach().numpy().copy(), "")
                    r = _section_recall(a(q[watch]), retriever.index.vectors, [pos[i] for i in watch])
                history.append(
                    {"epoch": epoch + 1, "loss": round(float(loss.detach()), 4), "val_recall@5": round(r, 4)}
                )
                if r > best[0]:
                    best = (r, epoch + 1, None)
        return delta.detach(), history, best[1]

    train_idx, val_idx = np.where(~val)[0], np.where(val)[0]
    base = _section_recall(q[val_idx], retriever.index.vectors, [pos[i] for i in val_idx])
    sweep = []
    for l2 in l2_grid:
        for temperature in temperature_grid:
            _, history, best_epoch = fit(train_idx, epochs, val_idx, l2, temperature)
            best_val = max(h["val_recall@5"] for h in history)
            sweep.append(
                {"l2": l2, "temperature": temperature, "epochs": best_epoch, "val_recall@5": best_val}
            )
    best = max(sweep, key=lambda r: r["val_recall@5"])
    # Dense vs hybrid on the validation questions, with the chosen adapter trained without them.
    delta, _, _ = fit(train_idx, best["epochs"], None, best["l2"], best["temperature"])
    fusion = _fusion_check(retriever, QueryAdapter(delta.numpy(), retriever.index.model), rows, val_idx)
    delta, _, _ = fit(
        np.arange(len(rows)), best["epochs"], None, best["l2"], best["temperature"]
    )  # refit on all
    meta = {
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "questions": len(rows),
        "sections": len(sections),
        "validation_questions": int(val.sum()),
        "lr": lr,
        **best,
        "val_recall@5_without_adapter": round(base, 4),
        "val_recall@5_with_adapter": best["val_recall@5"],
        "val_fusion_recall@5": fusion,
        "sweep": sweep,
        "training_files": [Path(f).name for f in train_files],
    }
    QueryAdapter(delta.numpy(), retriever.index.model, meta).save(out)
    return meta


def _fusion_check(
    retriever: Retriever, adapter: QueryAdapter, rows: list[dict], idx: np.ndarray
) -> dict[str, float]:
    """Section recall@5 of the full retriever on held-out questions: dense only, and fused with BM25."""
    saved = retriever.adapter, retriever.scope, retriever.cfg
    retriever.adapter, retriever.scope = adapter, None
    out: dict[str, float] = {}
    try:
        for name, hybrid, weight in (
            ("dense", False, 0.0),
            ("hybrid_0.25", True, 0.25),
            ("hybrid_0.5", True, 0.5),
        ):
            retriever.cfg = saved[2].with_overrides(bm25_weight=weight)
            hits = 0
            for i in idx:
                r = rows[i]
                res = retriever.retrieve(r["question"], k=5, hybrid=hybrid)
                hits += any((p.doc_id, p.section) == (r["doc"], r["section"]) for p in res.passages)
            out[name] = round(hits / max(1, len(idx)), 4)
    finally:
        retriever.adapter, retriever.scope, retriever.cfg = saved
    return out
