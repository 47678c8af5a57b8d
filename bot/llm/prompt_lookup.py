"""What the batching engine reads from a request's own prompt: the bigram table behind the copy bias
(`prompt_followers`) and the prompt-lookup draft (`lookup_draft`). Pure functions over token ids: no model,
no torch. The engine (bot/llm/batching.py) decides when to use them.
"""

from __future__ import annotations


def prompt_followers(ids: list[int]) -> dict[tuple[int, int], list[int]]:
    """For each pair of adjacent prompt tokens, the tokens that follow that pair in the prompt."""
    table: dict[tuple[int, int], list[int]] = {}
    for a, b, c in zip(ids, ids[1:], ids[2:], strict=False):
        nxt = table.setdefault((a, b), [])
        if c not in nxt:
            nxt.append(c)
    return table


def lookup_draft(history: list[int], max_tokens: int, ngram: tuple[int, ...] = (3, 2)) -> list[int]:
    """Prompt-lookup drafting: the tokens that followed the latest earlier occurrence of the history's last
    `n` tokens (trying each n in `ngram`, longest first), at most `max_tokens`; [] when none recurs. A
    grounded reply quotes its passages, so the prompt usually holds what the model writes next."""
    if max_tokens <= 0:
        return []
    size = len(history)
    for n in ngram:
        if size <= n:
            continue
        tail = history[-n:]
        first = tail[0]
        for start in range(size - n - 1, -1, -1):
            if history[start] == first and history[start : start + n] == tail:
                return history[start + n : start + n + max_tokens]
    return []
