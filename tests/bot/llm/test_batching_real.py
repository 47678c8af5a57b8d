"""Dynamic batching with the real model: concurrent conversations are decoded in shared batches, each
gets its own text (identical to running it alone, greedy), and a failing batch does not stop the engine."""

from __future__ import annotations

import threading
import time

import pytest

from bot.llm import GenerationRequest, GenerationStats, LLMConfig, generate
from bot.llm.local import TransformersBackend

pytestmark = pytest.mark.slow
PROMPTS = [
    "Name a colour.",
    "Say hello to a bank customer named Ana.",
    "What is 2 + 2?",
    "Write one sentence about savings accounts.",
]


@pytest.fixture(scope="module")
def backend(tmp_path_factory) -> TransformersBackend:
    return TransformersBackend(LLMConfig(cache_dir=tmp_path_factory.mktemp("models"))).warm_up()


def _req(p: str) -> GenerationRequest:
    return GenerationRequest([{"role": "user", "content": p}], max_new_tokens=16)


def test_concurrent_requests_share_batches_and_match_solo_runs(backend: TransformersBackend) -> None:
    solo = [generate(backend, _req(p)) for p in PROMPTS]
    before = len(backend.engine.batch_sizes)  # prefill groups so far (a run can hold several: joins)
    results: dict[int, str] = {}
    stats = [GenerationStats() for _ in PROMPTS]
    barrier = threading.Barrier(len(PROMPTS))

    def run(i: int) -> None:
        barrier.wait()
        results[i] = generate(backend, _req(PROMPTS[i]), stats[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(PROMPTS))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert [results[i] for i in range(len(PROMPTS))] == solo
    new_batches = backend.engine.batch_sizes[before:]
    assert max(new_batches) >= 2 and sum(new_batches) == len(PROMPTS)  # shared, nobody lost
    assert all(s.completion_tokens > 0 and s.total_s > 0 for s in stats)


def test_seeded_sampling_is_reproducible(backend: TransformersBackend) -> None:
    req = GenerationRequest(
        [{"role": "user", "content": "Invent a name for a savings account."}],
        max_new_tokens=12,
        temperature=0.9,
        seed=7,
    )
    assert generate(backend, req) == generate(backend, req)


def test_engine_survives_a_failing_batch(backend: TransformersBackend, monkeypatch) -> None:
    engine = backend.engine

    def boom(*a, **k):
        raise RuntimeError("simulated kernel failure")

    monkeypatch.setattr(engine, "_run", boom)
    with pytest.raises(Exception, match="simulated kernel failure"):
        generate(backend, _req("hi"))
    monkeypatch.undo()
    assert generate(backend, _req("Name a colour."))


def test_a_late_request_joins_the_running_batch_and_matches_its_solo_run(
    backend: TransformersBackend,
) -> None:
    long = GenerationRequest(
        [{"role": "user", "content": "Write a long story about a bank."}], max_new_tokens=60
    )
    short = _req(PROMPTS[0])
    solo_long, solo_short = generate(backend, long), generate(backend, short)
    joined_before = backend.engine.joined
    started = threading.Event()
    done: dict[str, float] = {}
    out: dict[str, str] = {}

    def run_long() -> None:
        pieces = []
        for piece in backend.stream(long):
            pieces.append(piece)
            started.set()
        out["long"], done["long"] = "".join(pieces), time.perf_counter()

    t = threading.Thread(target=run_long)
    t.start()
    assert started.wait(60)
    out["short"], done["short"] = generate(backend, short), time.perf_counter()
    t.join(120)
    assert out == {"long": solo_long, "short": solo_short}  # same greedy text as alone
    assert (
        backend.engine.joined > joined_before and done["short"] < done["long"]
    )  # did not wait for the batch


def test_an_abandoned_stream_frees_its_row_and_the_engine_carries_on(backend: TransformersBackend) -> None:
    """A client that disconnects closes its stream: the row is marked cancelled and leaves the batch at the
    next decode step instead of decoding to max_new_tokens."""
    solo = generate(backend, _req(PROMPTS[2]))
    cancelled_before = backend.engine.cancelled
    stats = GenerationStats()
    stream = backend.stream(
        GenerationRequest(
            [{"role": "user", "content": "Write a long story about a bank."}], max_new_tokens=200
        ),
        stats,
    )
    assert next(stream) and next(stream)
    stream.close()
    assert stats.finish_reason == "cancelled" and backend.engine.cancelled == cancelled_before + 1
    time.sleep(0.5)
    assert stats.completion_tokens < 200  # decoding stopped long before the limit
    assert generate(backend, _req(PROMPTS[2])) == solo


def test_the_engine_uses_the_installed_transformers_cache_argument(backend: TransformersBackend) -> None:
    """transformers 5.24 renamed forward(past_key_values=...) to cache= (the old name warns, and goes in
    5.40): decoding raises no deprecation warning, whichever version is installed. The engine decodes in
    its own thread; `catch_warnings` swaps the process-wide hook, so that thread's warnings are caught."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert generate(backend, _req("Name a fruit."))
    messages = [str(w.message) for w in caught]
    assert not [m for m in messages if "past_key_values" in m], messages
    assert backend.engine.cache_arg in {"cache", "past_key_values"}


def test_prompt_lookup_drafts_change_the_passes_not_the_text(backend: TransformersBackend) -> None:
    """A grounded prompt (the serving prompt with passages): the engine that drafts by prompt lookup writes
    the same greedy text as one that does not, and the model confirms some of its drafts."""
    from bot.llm.batching import BatchingEngine
    from bot.llm.bench import prompts

    messages = prompts()["grounded"]
    ids = backend.encode(messages)["input_ids"][0].tolist()
    texts, engines = [], []
    for k in (0, 16):
        engine = BatchingEngine(backend.model, backend.tokenizer, speculate=k)
        req = GenerationRequest(messages, max_new_tokens=48)
        texts.append("".join(engine.submit(req, ids, GenerationStats())))
        engines.append(engine)
    assert texts[0] and texts[0] == texts[1]
    assert engines[0].drafted == 0 and engines[1].accepted > 0 and engines[1].drafted >= engines[1].accepted


def test_the_system_prompt_prefix_is_reused_and_the_text_is_unchanged(backend: TransformersBackend) -> None:
    """Turns that share the serving system prompt: its keys and values are computed once and reused by later
    prefills (alone and in a shared batch), and every reply is the text a full prefill gives."""
    from bot.llm.batching import BatchingEngine
    from bot.llm.bench import grounded_passages
    from bot.prompts import build_messages

    passages = grounded_passages()
    questions = ["What is the monthly fee on Everyday Checking?", "What does a cashier's check cost?"]
    turns = [build_messages(q, passages[i:]) for i, q in enumerate(questions)]
    prompts = [backend.encode(m)["input_ids"][0].tolist() for m in turns]
    prefix = backend.system_prefix(turns[0], prompts[0])
    assert 0 < prefix < len(prompts[0]) and prefix == backend.system_prefix(turns[1], prompts[1])
    assert backend.system_prefix([{"role": "user", "content": "hi"}], prompts[0][:10]) == 0

    def replies(engine: BatchingEngine, together: bool) -> list[str]:
        reqs = [GenerationRequest(m, max_new_tokens=24) for m in turns]
        if not together:
            return [
                "".join(engine.submit(r, p, GenerationStats(), prefix))
                for r, p in zip(reqs, prompts, strict=True)
            ]
        out: dict[int, str] = {}
        barrier = threading.Barrier(2)

        def run(i: int) -> None:
            barrier.wait()
            out[i] = "".join(engine.submit(reqs[i], prompts[i], GenerationStats(), prefix))

        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        return [out[0], out[1]]

    full = BatchingEngine(backend.model, backend.tokenizer, prefix_cache=0)
    cached = BatchingEngine(backend.model, backend.tokenizer, max_wait_ms=200)
    expected = replies(full, together=False)
    assert all(expected)
    assert replies(cached, together=False) == expected
    assert (cached.prefixes.misses, cached.prefixes.hits) == (1, 1)
    assert replies(cached, together=True) == expected
    assert cached.prefixes.hits == 2 and max(cached.batch_sizes) == 2  # one shared prefill for both rows


def test_a_closed_engine_stops_its_worker_and_refuses_new_requests(backend: TransformersBackend) -> None:
    """close() ends the worker thread (the bench closes its engines before the process exits); a request
    sent afterwards gets a BackendError at once instead of waiting for a worker that is gone."""
    from bot.llm import BackendError
    from bot.llm.batching import BatchingEngine

    engine = BatchingEngine(backend.model, backend.tokenizer)
    prompt = backend.encode(_req(PROMPTS[2]).messages)["input_ids"][0].tolist()
    text = "".join(engine.submit(_req(PROMPTS[2]), prompt, GenerationStats()))
    assert text == generate(backend, _req(PROMPTS[2]))
    engine.close()
    assert not engine._worker.is_alive()
    with pytest.raises(BackendError, match="closed"):
        list(engine.submit(_req(PROMPTS[2]), prompt, GenerationStats()))


def test_onednn_linear_keeps_the_text_and_the_worker_keeps_its_threads(
    backend: TransformersBackend,
) -> None:
    """The float32 CPU model's linear layers run through oneDNN (bot/llm/onednn_linear.py) and write the
    same greedy text as with torch's kernel; the worker runs calls between batches on its own thread,
    with the threads confine() left it (bot/llm/torch_threads.py), while this thread has one."""
    import torch

    from bot.llm.onednn_linear import onednn_layers, stock_linear

    assert len(onednn_layers(backend.model)) > 200  # 7 per decoder layer and the LM head
    text = generate(backend, _req(PROMPTS[3]))
    with stock_linear(backend.model):
        assert generate(backend, _req(PROMPTS[3])) == text
    engine = backend.engine
    assert engine.call(lambda: threading.current_thread().name) == "batching-engine"
    assert engine.call(torch.get_num_threads) == engine.threads >= 1
    assert torch.get_num_threads() == 1
