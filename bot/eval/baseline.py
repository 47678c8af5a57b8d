"""The baseline a team would write in an afternoon: a plain LangChain retrieval chain (retriever -> stuff
the top documents into a prompt -> the same LM -> text), with the same index and the same model, and none
of the assistant's guards, classifiers, scope model, citations or verification. bot.eval measures it next
to the assistant in the same run.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda, RunnablePassthrough

BASELINE_SYSTEM = (
    "You are a helpful assistant for Fernhollow Bank. Use the following context to answer the question.\n\n"
    "Context:\n{context}"
)
ROLES = {"system": "system", "human": "user", "ai": "assistant"}


def build_chain(kb, backend, k: int = 4, max_new_tokens: int = 160):
    from bot.llm import GenerationRequest

    retriever = kb.as_langchain_retriever(k=k)
    prompt = ChatPromptTemplate.from_messages([("system", BASELINE_SYSTEM), ("human", "{question}")])

    def fmt(docs) -> str:
        return "\n\n".join(d.page_content for d in docs)

    def llm(prompt_value) -> Iterator[str]:
        messages = [
            {"role": ROLES.get(m.type, "user"), "content": m.content} for m in prompt_value.to_messages()
        ]
        yield from backend.stream(GenerationRequest(messages=messages, max_new_tokens=max_new_tokens))

    context = RunnableLambda(lambda q: fmt(retriever.invoke(q)), name="retrieve")
    return (
        {"context": context, "question": RunnablePassthrough()}
        | prompt
        | RunnableLambda(llm, name="generate")
        | StrOutputParser()
    ), retriever


def run_baseline(chain, retriever, question: str) -> dict:
    """One question through the chain, streamed; returns reply, sources and timings."""
    t0 = time.perf_counter()
    first = None
    parts: list[str] = []
    for piece in chain.stream(question):
        if first is None and piece:
            first = time.perf_counter() - t0
        parts.append(piece)
    total = time.perf_counter() - t0
    docs = retriever.invoke(question)
    return {
        "text": "".join(parts),
        "sources": [{"text": d.page_content, "doc_id": d.metadata.get("doc_id")} for d in docs],
        "timings_ms": {"first_token": round((first or total) * 1e3, 2), "total": round(total * 1e3, 2)},
    }
