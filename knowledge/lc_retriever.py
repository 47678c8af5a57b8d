"""The knowledge base as a LangChain `BaseRetriever`, so it drops into any LangChain chain or agent.
Each `Document` carries the passage's score, title, section and URL in its metadata. Passages below the
no-answer threshold are returned too (flagged `answerable: False`) unless `drop_unanswerable` is set."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from .retriever import Retriever


class KnowledgeRetriever(BaseRetriever):
    retriever: Any
    k: int = 5
    drop_unanswerable: bool = False

    model_config = ConfigDict(arbitrary_types_allowed=True)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        r: Retriever = self.retriever
        result = r.retrieve(query, k=self.k)
        if self.drop_unanswerable and not result.answerable:
            return []
        return [
            Document(
                page_content=p.text,
                metadata={
                    "doc_id": p.doc_id,
                    "title": p.title,
                    "section": p.section,
                    "url": p.url,
                    "chunk_id": p.chunk_id,
                    "score": p.score,
                    "answerable": result.answerable,
                },
            )
            for p in result.passages
        ]
