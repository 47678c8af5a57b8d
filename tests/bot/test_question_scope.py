"""bot/question_scope.py: questions about the customer's own account and about other institutions are
recognised; product questions that merely say "my" or name another bank as a source of money are not."""

from __future__ import annotations

import pytest

from bot.question_scope import account_state_question, asks_question, other_institution

ACCOUNT_STATE = [
    "did my wire to the roofer go through?",
    "how much do I still owe on my car loan",
    "what's my credit limit on the gold card",
    "has the check from my aunt cleared yet",
    "whats the status of my mortgage application",
    "why is there a $12.99 charge from netflix on my account",
    "how many free withdrawals have i used this cycle",
    "what interest rate did I get on my CD",
    "Where does my dispute stand? Case 449120.",
]
PRODUCT = [
    "how do I freeze my card in the app",
    "what happens to my balance if I close my account",
    "can I transfer money from my Chase account to Fernhollow",
    "is my money insured if the bank fails",
    "when is my first car loan payment due",
    "why was my card declined when I had enough money",
    "how much is the monthly fee on Everyday Checking",
    "Do you charge a fee to receive a wire from Wells Fargo?",
]
OTHER = [
    ("What does Capital One charge for an outgoing wire?", "Capital One"),
    ("venmo instant transfer fee", "venmo"),
    ("is schwab's checking account free", "schwab"),
]


@pytest.mark.parametrize("text", ACCOUNT_STATE)
def test_account_state_questions_are_recognised(text: str) -> None:
    assert account_state_question(text)


@pytest.mark.parametrize("text", PRODUCT)
def test_product_questions_are_not(text: str) -> None:
    assert not account_state_question(text) and other_institution(text) is None


@pytest.mark.parametrize(("text", "name"), OTHER)
def test_another_institutions_products_are_recognised(text: str, name: str) -> None:
    assert other_institution(text) == name


def test_generic_words_that_are_also_company_names_need_context() -> None:
    assert other_institution("does a square root calculator exist") is None
    assert other_institution("what's the Discover card cash back rate") == "Discover"


@pytest.mark.parametrize(
    "text",
    [
        "cost to stop a check i wrote",  # a search-style query
        "used auto loan apr no autopay",
        "bruh i instant-paid the wrong person, whos the number to call",
        "will filing a complaint get my account treated worse or cost me anything",
        "if i downgrade from premier to everyday checking after a month is that a closure fee",
        "lost my debit card on vacay in cancun, can u mail the new one to my hotel",
        "Someone swiped my debit card. Is the new one going to keep the old digits?",
        "I emailed a complaint yesterday. When should somebody at least confirm they got it?",
        "my acount has been in the negitive for a while, can the bank close it on me",
    ],
)
def test_questions_and_queries_ask_something(text: str) -> None:
    assert asks_question(text)


@pytest.mark.parametrize(
    "text",
    [
        "I lost my card at the station",
        "someone stole my card",
        "there's a charge I didn't make on my account",
        "I can't pay my mortgage this month",
        "Someone bought airline miles with my card, I didn't do that",
        "My business account shows payroll payments to people who don't work for us",
        "your service is terrible, I want to complain",
        "My wallet was stolen with all my cards in it and the police have a report from this afternoon",
    ],
)
def test_messages_that_only_tell_what_happened_do_not(text: str) -> None:
    assert not asks_question(text)
