"""The classifiers as LangChain tools with typed input and output schemas, so that a tool-calling model can
call them too. The assistant's own policy calls the same functions every turn (see policy.py).

Input validation is the schema's job: empty or over-long text is a clear `ValidationError` before any
model runs. Inputs the schema accepts (emoji, other languages, HTML, code) always give a defined result.
"""

from __future__ import annotations

from typing import Literal

from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, Field, field_validator

from .classifiers import TurnClassifiers

MAX_TOOL_CHARS = 20_000


class MessageInput(BaseModel):
    text: str = Field(
        description="The customer's message, verbatim (personal data already masked).",
        min_length=1,
        max_length=MAX_TOOL_CHARS,
    )

    @field_validator("text")
    @classmethod
    def not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("text is blank: pass the customer's message")
        return v


class SentimentOutput(BaseModel):
    label: Literal["negative", "neutral", "positive"] = Field(description="Overall feeling of the message.")
    score: float = Field(ge=0, le=1, description="Calibrated probability of the label.")
    scores: dict[str, float] = Field(description="Probability of each label.")
    reliable: bool = Field(
        description="False for text the English model cannot judge (e.g. non-Latin script)."
    )
    notes: list[str] = Field(
        description="What was done to the input (markup removed, truncated, emoji only...)."
    )


class RiskOutput(BaseModel):
    category: Literal[
        "fraud", "lost_stolen", "account_security", "hardship", "complaint", "advice", "none"
    ] = Field(description="Risk situation the message describes.")
    level: Literal["high", "medium", "low"] = Field(
        description="How urgently a human or safety script is needed."
    )
    probability: float = Field(ge=0, le=1, description="Calibrated probability of the category.")
    scores: dict[str, float] = Field(description="Probability of each category.")
    reliable: bool = Field(description="False for text the English model cannot judge.")
    notes: list[str] = Field(description="What was done to the input.")


class IntentOutput(BaseModel):
    intent: str = Field(
        description="One of the 77 Banking77 intents, e.g. card_arrival, lost_or_stolen_card."
    )
    probability: float = Field(ge=0, le=1)


def make_tools(classifiers: TurnClassifiers) -> list[BaseTool]:
    def sentiment(text: str) -> dict:
        s = classifiers.classify(text)
        return SentimentOutput(
            label=s.sentiment.label,
            score=s.sentiment.score,
            scores=s.sentiment.scores,
            reliable=s.reliable,
            notes=s.notes,
        ).model_dump()

    def risk(text: str) -> dict:
        s = classifiers.classify(text)
        return RiskOutput(
            category=s.risk.category,
            level=s.risk.level,
            probability=s.risk.probability,
            scores=s.risk.scores,
            reliable=s.reliable,
            notes=s.notes,
        ).model_dump()

    def intent(text: str) -> dict:
        s = classifiers.classify(text)
        if s.intent is None:
            return IntentOutput(intent="unknown", probability=0.0).model_dump()
        return IntentOutput(intent=s.intent.intent, probability=s.intent.probability).model_dump()

    return [
        StructuredTool.from_function(
            func=sentiment,
            name="sentiment",
            args_schema=MessageInput,
            description="Classify the customer's feeling in one message: negative, neutral or positive, with a "
            "calibrated score. Use it to notice an upset customer and adapt tone or offer a human.",
        ),
        StructuredTool.from_function(
            func=risk,
            name="risk",
            args_schema=MessageInput,
            description="Detect a risky situation in one customer message: fraud or unauthorised transaction, "
            "lost or stolen card or phone, account security (compromised login, phishing, SIM swap), "
            "financial hardship or vulnerability, complaint or dispute, regulated advice request, or "
            "none; with level (high/medium/low) and calibrated probability.",
        ),
        StructuredTool.from_function(
            func=intent,
            name="banking_intent",
            args_schema=MessageInput,
            description="Name the banking intent of one message among the 77 Banking77 intents, for routing.",
        ),
    ]
