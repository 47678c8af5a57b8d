"""Dynamic batching for the local model: concurrent conversations share forward passes instead of queueing
behind each other on the CPU.

A worker thread takes the waiting requests (up to `max_batch`, gathering for at most `max_wait_ms` after the
first), left-pads their prompts, runs one prefill and then one decode step per token for the whole batch
with a shared KV cache, and streams each row's new text to its caller as soon as it is decoded. A row stops
at end-of-turn, `max_new_tokens` or a stop string and leaves the batch. Continuous batching: requests that
arrive while a batch decodes are prefilled as a group and join it at the next step (their KV cache
left-padded to the batch's length), so a new conversation's first token does not wait for the others to
finish. Greedy rows are deterministic and give the same text as alone; sampled rows use their own seeded
generator. A request's `copy_bias` raises the logits of the tokens that follow its last two generated
tokens somewhere in its prompt (a bigram table built once per request), so a passage being quoted is
quoted exactly; it never overrules the model's own choice of a citation mark or the end of the reply, and
never helps a row repeat three tokens it has already written. When one greedy row decodes alone, the
engine drafts its next tokens by prompt lookup (`speculate`: what followed the latest earlier occurrence of
its last three or two tokens, usually a passage it is quoting) and checks the draft in one forward pass,
keeping the model's own choice at every position: the same text in fewer passes (up to floating-point
rounding of near-ties; the tests and the dialogue suite see identical text). A request may declare how many
of its prompt's first tokens are a shared prefix (the system prompt): their keys and values are computed
once and kept (bot/llm/prefix_cache.py), so a prefill whose rows all share it reads the rest of each prompt
only. Errors reach every caller in the failed batch; the worker keeps serving. With `threads` > 0 the worker
alone runs torch on that many threads (bot/llm/torch_threads.py); `call(fn)` runs fn on it between batches.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .base import BackendError, GenerationRequest, GenerationStats, StopScanner
from .cache_compat import cache_argument, merge_groups, returned_cache
from .prefix_cache import PrefixCache, PrefixKV, batch_cache, shared_prefix
from .prompt_lookup import lookup_draft, prompt_followers
from .torch_threads import WorkerCall, own_threads

_DONE = object()


@dataclass
class _Job:
    request: GenerationRequest
    prompt_ids: list[int]
    stats: GenerationStats
    out: queue.Queue = field(default_factory=queue.Queue)
    generated: list[int] = field(default_factory=list)
    text: str = ""
    finished: bool = False
    scanner: StopScanner | None = None
    generator: Any = None
    start: float = field(default_factory=time.perf_counter)
    followers: dict[tuple[int, int], list[int]] | None = None  # copy_bias: (a, b) -> tokens after a, b
    prefix: int = 0  # first prompt tokens shared with other requests (their keys and values are reused)


class BatchingEngine:
    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        max_batch: int = 16,
        max_wait_ms: float = 10.0,
        join_running: bool = True,
        speculate: int = 0,
        prefix_cache: int = 4,
        threads: int = 0,
    ) -> None:
        """`join_running=False` restores batch-at-a-time serving (requests that arrive while a batch decodes
        wait for it to end); the benchmark uses it as the baseline for continuous batching. `speculate` > 0
        drafts up to that many tokens by prompt lookup when one greedy row decodes alone, and checks them in
        one forward pass (the same text up to floating-point rounding, in fewer passes). `prefix_cache` is how
        many shared prompt prefixes are kept (0 = none: every prefill runs over the whole prompt)."""
        self.model = model
        self.cache_arg = cache_argument(model)
        self.speculate = max(0, int(speculate))
        self.prefixes = PrefixCache(prefix_cache) if prefix_cache > 0 else None
        self.drafted = 0  # tokens proposed by prompt lookup
        self.accepted = 0  # of them, tokens the model confirmed
        self.join_running = join_running
        self.tokenizer = tokenizer
        self.max_batch = max_batch
        self.max_wait_s = max_wait_ms / 1000
        self.queue: queue.Queue[_Job | WorkerCall | None] = queue.Queue()  # None: close()
        self.eos_ids = {
            i
            for i in (tokenizer.eos_token_id, tokenizer.convert_tokens_to_ids("<|im_end|>"))
            if isinstance(i, int) and i >= 0
        }
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else min(self.eos_ids)
        # Tokens the copy bias leaves to the model: a citation mark opening ("[", " [") and end of turn.
        self.uncopied = set(self.eos_ids) | {
            ids[0] for ids in (tokenizer.encode(t, add_special_tokens=False) for t in ("[", " [")) if ids
        }
        self.batches = 0  # runs of the decode loop
        self.batch_sizes: list[int] = []  # size of each prefill group (the first of a run, then each join)
        self.joined = 0  # requests that joined a batch already decoding
        self.cancelled = 0  # requests whose caller stopped reading before the end (their rows are dropped)
        self.closed = False  # close() was called: submit() refuses new requests
        self._closing = threading.Lock()  # submit() and close() do not interleave
        self.threads = threads  # torch threads of the worker (0: leave torch's setting)
        self._deferred: list[WorkerCall] = []  # calls met while gathering a batch, run after it
        self._started = threading.Event()
        self._worker = threading.Thread(target=self._loop, name="batching-engine", daemon=True)
        self._worker.start()
        self._started.wait()

    def call(self, fn: Any) -> Any:
        """`fn()` run on the worker between batches (the benchmark's baseline runs where the engine runs)."""
        job = WorkerCall(fn)
        with self._closing:
            if self.closed:
                raise BackendError("the generation engine was closed")
            self.queue.put(job)
        return job.result()

    def submit(
        self, request: GenerationRequest, prompt_ids: list[int], stats: GenerationStats, prefix: int = 0
    ) -> Iterator[str]:
        """Streams the reply to `prompt_ids`; `prefix` > 0 says its first `prefix` tokens are shared with
        other requests (the system prompt), so their keys and values may come from the prefix cache."""
        import torch

        job = _Job(request, prompt_ids, stats, scanner=StopScanner(request.stop), prefix=prefix)
        if request.copy_bias > 0:
            job.followers = prompt_followers(prompt_ids)
        if request.temperature > 0:
            job.generator = torch.Generator().manual_seed(request.seed if request.seed is not None else 0)
        stats.prompt_tokens = len(prompt_ids)
        with self._closing:  # never queued behind close()'s stop, where no worker would take it
            if self.closed:
                raise BackendError("the generation engine was closed")
            self.queue.put(job)
        try:
            while True:
                item = job.out.get()
                if item is _DONE:
                    return
                if isinstance(item, BaseException):
                    raise BackendError(f"generation failed: {type(item).__name__}: {item}") from item
                yield item
        finally:
            if not job.finished:  # the caller stopped reading (client gone): free its row at the next step
                job.stats.finish_reason = "cancelled"
                job.finished = True
                self.cancelled += 1

    def close(self, timeout: float = 10.0) -> None:
        """Refuse new requests, let the worker finish what was submitted before, and wait up to `timeout` s
        for it to stop (a process that exits with the worker inside a torch call can abort). Requests sent
        after close() get a BackendError at once."""
        with self._closing:
            self.closed = True
            self.queue.put(None)
        self._worker.join(timeout)

    def _loop(self) -> None:
        if self.threads:
            own_threads(self.threads)
        self._started.set()
        while True:
            first = self.queue.get()
            if first is None:  # close()
                return
            if isinstance(first, WorkerCall):
                first.run()
                continue
            jobs = [first]
            if jobs[0].finished:  # cancelled while waiting
                continue
            jobs += self._take_waiting(self.max_batch - 1, deadline=time.perf_counter() + self.max_wait_s)
            try:
                self._run(jobs)
            except BaseException as exc:  # report to every caller, keep the worker alive
                for job in jobs:
                    if not job.finished:
                        job.out.put(exc)
                        job.out.put(_DONE)
            while self._deferred:
                self._deferred.pop(0).run()

    def _take_waiting(self, room: int, deadline: float | None = None) -> list[_Job]:
        """Up to `room` waiting requests: those queued now, or with a `deadline` those that arrive before it.
        Calls met on the way run after the batch; close()'s stop is left in the queue for the loop."""
        jobs: list[_Job] = []
        while len(jobs) < room:
            try:
                if deadline is None:
                    job = self.queue.get_nowait()
                else:
                    job = self.queue.get(timeout=max(0.0, deadline - time.perf_counter()))
            except queue.Empty:
                break
            if job is None:  # close(): serve what was gathered, then stop
                self.queue.put(None)
                break
            if isinstance(job, WorkerCall):
                self._deferred.append(job)
            elif not job.finished:
                jobs.append(job)
        return jobs

    def _prefill(self, jobs: list[_Job]) -> tuple[Any, Any, Any, Any]:
        """Left-padded prompts of `jobs` through the model: (cache, attention mask, last positions, first
        tokens). The first tokens are chosen and emitted here."""
        import torch
        from transformers import DynamicCache

        self.batch_sizes.append(len(jobs))
        device = self.model.device
        shared = shared_prefix([j.prompt_ids for j in jobs], [j.prefix for j in jobs]) if self.prefixes else 0
        if shared:  # the prefix's keys and values from the store; the model reads the rest of each prompt
            kv = self.prefixes.get(tuple(jobs[0].prompt_ids[:shared]), self._prefix_kv)
            cache = batch_cache(kv, len(jobs))
        else:
            cache = DynamicCache()
        rest = [j.prompt_ids[shared:] for j in jobs]
        width = max(len(r) for r in rest)
        ids = torch.full((len(jobs), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(jobs), width), dtype=torch.long)
        # left padding: every row's last prompt token is in the last column
        for row, tokens in enumerate(rest):
            ids[row, width - len(tokens) :] = torch.tensor(tokens)
            mask[row, width - len(tokens) :] = 1
        ids, mask = ids.to(device), mask.to(device)
        positions = shared + (mask.cumsum(-1) - 1).clamp(min=0)
        # [prefix][padding][rest]: the padding between them is masked like any other
        mask = torch.cat([torch.ones((len(jobs), shared), dtype=mask.dtype, device=device), mask], dim=1)
        logits, cache = self._forward(ids, mask, positions, cache, keep=1)
        nxt = self._choose(jobs, logits[:, -1, :])
        self._emit(jobs, nxt)
        return cache, mask, positions[:, -1:], nxt

    def _prefix_kv(self, ids: tuple[int, ...]) -> PrefixKV:
        """The keys and values of a shared prefix, computed alone (one row, no padding)."""
        import torch
        from transformers import DynamicCache

        device = self.model.device
        tokens = torch.tensor([ids], dtype=torch.long, device=device)
        mask = torch.ones_like(tokens)
        positions = torch.arange(len(ids), device=device).view(1, -1)
        _, cache = self._forward(tokens, mask, positions, DynamicCache(), keep=1)
        return [(layer.keys, layer.values) for layer in cache.layers]

    def _forward(self, ids: Any, mask: Any, positions: Any, cache: Any, keep: int) -> tuple[Any, Any]:
        """One pass of the model over `ids` with the KV cache (passed and read back under the installed
        transformers' name): the float logits of the last `keep` positions, and the grown cache."""
        out = self.model(
            input_ids=ids,
            attention_mask=mask,
            position_ids=positions,
            use_cache=True,
            logits_to_keep=keep,
            **{self.cache_arg: cache},
        )
        return out.logits.float(), returned_cache(out)

    def _run(self, jobs: list[_Job]) -> None:
        """Continuous batching: rows leave the batch when they finish and waiting requests join it at the
        next decode step (their prompts prefilled as a group, then merged), so a new conversation does not
        wait for the running batch to end."""
        import torch

        self.batches += 1
        device = self.model.device
        active = list(jobs)
        with torch.inference_mode():
            cache, mask, last, nxt = self._prefill(active)
            while True:
                keep = [i for i, j in enumerate(active) if not j.finished]
                if len(keep) < len(active):
                    if not keep:
                        active = []
                    else:
                        idx = torch.tensor(keep, device=device)
                        cache.batch_select_indices(idx)
                        mask, last, nxt = mask[idx], last[idx], nxt[idx.cpu()]
                        active = [active[i] for i in keep]
                new = self._take_waiting(self.max_batch - len(active)) if self.join_running else []
                if new:
                    self.joined += len(new) if active else 0
                    group = self._prefill(new)
                    if active:
                        cache, mask, last, nxt = merge_groups((cache, mask, last, nxt), group)
                    else:
                        cache, mask, last, nxt = group
                    active += new
                    jobs.extend(new)  # the caller reports a failure to every job it holds
                    continue  # drop rows that finished at their first token before decoding
                if not active:
                    return
                if self.speculate and len(active) == 1 and active[0].request.temperature <= 0:
                    job = active[0]
                    room = min(self.speculate, job.request.max_new_tokens - len(job.generated) - 1)
                    draft = lookup_draft(job.prompt_ids + job.generated, room)
                    if draft:
                        cache, mask, last, nxt = self._speculate(job, draft, cache, mask, last, nxt)
                        continue
                last = last + 1
                mask = torch.cat([mask, torch.ones((len(active), 1), dtype=mask.dtype, device=device)], dim=1)
                logits, cache = self._forward(nxt.view(-1, 1).to(device), mask, last, cache, keep=1)
                nxt = self._choose(active, logits[:, -1, :])
                self._emit(active, nxt)

    def _speculate(self, job: _Job, draft: list[int], cache: Any, mask: Any, last: Any, nxt: Any) -> tuple:
        """One forward pass over the next token and a drafted continuation; the model's own choice is taken
        at each position (as in a plain step) while it agrees with the draft, and the cache keeps only the
        positions that were used."""
        import torch

        device = self.model.device
        width = 1 + len(draft)
        ids = torch.tensor([[int(nxt[0]), *draft]], dtype=torch.long, device=device)
        positions = last + torch.arange(1, width + 1, device=device).view(1, -1)
        kept = mask.shape[1]
        mask = torch.cat([mask, torch.ones((1, width), dtype=mask.dtype, device=device)], dim=1)
        logits, cache = self._forward(ids, mask, positions, cache, keep=width)
        logits = logits[0]
        self.drafted += len(draft)
        for i in range(width):
            token = self._choose([job], logits[i : i + 1])
            self._emit([job], token)
            if job.finished or i == len(draft) or int(token[0]) != draft[i]:
                break
            self.accepted += 1
        used = i + 1  # positions whose keys and values stay: the fed token and the confirmed draft
        # Drop the rejected draft's keys and values (by hand: Cache.crop's sign changed in 5.24).
        for layer in cache.layers:
            layer.keys = layer.keys[..., : kept + used, :]
            layer.values = layer.values[..., : kept + used, :]
        return cache, mask[:, : kept + used], positions[:, i : i + 1], token

    def _choose(self, jobs: list[_Job], logits: Any) -> Any:
        import torch

        for row, job in enumerate(jobs):
            if job.followers and not job.finished:
                self._copy_bonus(job, logits[row])
        nxt = logits.argmax(dim=-1)
        for row, job in enumerate(jobs):
            if job.finished:
                nxt[row] = self.pad_id
            elif job.request.temperature > 0:
                probs = torch.softmax(logits[row] / job.request.temperature, dim=-1)
                if job.request.top_p < 1.0:
                    sorted_p, order = probs.sort(descending=True)
                    keep = sorted_p.cumsum(0) - sorted_p < job.request.top_p
                    probs = torch.zeros_like(probs).scatter(0, order[keep], sorted_p[keep])
                nxt[row] = torch.multinomial(probs, 1, generator=job.generator)[0]
        return nxt.cpu()

    def _copy_bonus(self, job: _Job, logits: Any) -> None:
        """Adds the request's copy bias, in place, to the tokens that continue its last two in the prompt."""
        g = job.generated
        recent = g[-2:] if len(g) >= 2 else (job.prompt_ids[-2:] + g)[-2:]
        if len(recent) < 2 or not job.followers:
            return
        a, b = recent
        follow = job.followers.get((a, b))
        if not follow or int(logits.argmax()) in self.uncopied:
            return
        written = {(x, y, z) for x, y, z in zip(g, g[1:], g[2:], strict=False) if (x, y) == (a, b)}
        follow = [c for c in follow if (a, b, c) not in written]
        if follow:
            logits[follow] += job.request.copy_bias

    def _emit(self, jobs: list[_Job], nxt: Any) -> None:
        for row, job in enumerate(jobs):
            if job.finished:
                continue
            token = int(nxt[row])
            ended = token in self.eos_ids
            if not ended:
                job.generated.append(token)
            job.stats.completion_tokens = len(job.generated)
            text = self.tokenizer.decode(job.generated, skip_special_tokens=True)
            if not text.endswith("\ufffd"):  # hold back half of a multi-byte character
                piece, job.text = text[len(job.text) :], text
                piece = job.scanner.feed(piece) if piece else ""
                if piece:
                    if not job.stats.time_to_first_token_s:
                        job.stats.time_to_first_token_s = time.perf_counter() - job.start
                    job.out.put(piece)
            length = len(job.generated) >= job.request.max_new_tokens
            if ended or length or job.scanner.stopped:
                tail = job.scanner.flush()
                if tail:
                    job.out.put(tail)
                job.finished = True
                job.stats.finish_reason = (
                    "length" if length and not (ended or job.scanner.stopped) else "stop"
                )
                job.stats.total_s = time.perf_counter() - job.start
                job.out.put(_DONE)
