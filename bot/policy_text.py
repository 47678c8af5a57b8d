"""What the assistant says when the policy, not the model, writes part of the reply: safety-script
introductions and the queries that find each script in the documents, the advice disclaimer, the handoff
offer and confirmation, and the replies to messages that cannot be answered (empty, too long, unreadable,
injection attempts, a model that is down).

The steps of a safety script (how to freeze a card, the 24/7 number) are not written here: they are
quoted, with citations, from the bank's documents at run time (bot/safety.py), so they stay true when
the documents change. Tests assert the wording that matters.
"""

from __future__ import annotations

from .prompts import HANDOFF_OFFER

# Where the safety script for each risk category is found: (document, what to look for in it).
SAFETY_QUERIES = {
    "lost_stolen": ("lost-or-stolen-cards", "card lost or stolen what to do right now freeze your card call 24/7"),
    "fraud": ("fraud-and-unauthorised-transactions", "report a transaction you didn't make freeze card call fraud line 24/7"),
    "account_security": ("security-and-scams", "someone has my passcode or password account compromised what to do call now"),
    "hardship": ("financial-hardship", "struggling to pay help options call support line"),
    "complaint": ("complaints", "complain to Fernhollow Bank by phone complaints line email mail secure message; resolve your complaint on the spot, record it and confirm the outcome"),
}  # fmt: skip
SAFETY_INTROS = {
    "lost_stolen": "I'm sorry your card is missing. Please act now to protect your money:",
    "fraud": "I'm sorry this happened. To protect your money, please act now:",
    "account_security": "Let's secure your account straight away:",
    "hardship": "I'm sorry you're going through this. We have help for customers who are struggling:",
    "complaint": "I'm sorry we've let you down. Here's how to raise it with us:",
}
# Medium risk (a question that mentions a card, a charge or a login without saying it went wrong): the
# question is answered, and this line invites the customer to say so. "Act now" introductions are only for
# replies that go on to the documented steps (a starter-card question read as fraud at medium risk once got
# "To protect your money, please act now:" followed by a card's APR).
SAFETY_CHECK_INS = {
    "lost_stolen": "If your card or phone is missing, tell me and I'll show you how to freeze it straight away.",
    "fraud": "If you've spotted a payment you don't recognise, tell me and I'll show you how to report it straight away.",
    "account_security": "If you think someone else can get into your account, tell me and I'll show you how to secure it straight away.",
}  # fmt: skip
EMPATHY = "I'm sorry about the trouble."
ADVICE_DISCLAIMER = (
    "Please note: I can share general information from our documents, but I can't give personal "
    "financial, tax or legal advice. For advice about your own situation, please speak to a qualified adviser."
)
NEGATIVE_HANDOFF = (
    "I'm sorry this has been frustrating. Would you like me to connect you with a member of our team?"
)
OUT_OF_SCOPE = "I can help with Fernhollow Bank's accounts, cards, loans, transfers and services."
CONTACT_QUERY = ("contact-us", "customer service phone number and hours")
# Where a customer can see their own account, for questions the assistant cannot check (quoted, cited).
ACCOUNT_QUERY = (
    "online-and-mobile-banking",
    "check balances and transactions in the Fernhollow Mobile app or online banking; secure message about a "
    "specific transaction",
)
HANDOFF_CREATED = (
    "I've passed your conversation to our team (reference {ref}), and a member of staff will pick it up. "
    "You don't need to repeat anything you've told me."
)
INJECTION_REPLY = (
    "I can't help with that request. I can answer questions about Fernhollow Bank's products and services "
    "from our documents; I can't change how I work, share information about other customers, or make "
    "changes to accounts."
)
EMPTY_REPLY = "I didn't receive a message. What can I help you with today?"
TOO_LONG_REPLY = (
    "Your message is too long for me to read ({n:,} characters). Please send a shorter message "
    "(under {limit:,} characters), or split it into a few questions."
)
BINARY_REPLY = "I couldn't read that message. Please type your question as plain text."
MODEL_DOWN_NOTE = "Here is the most relevant part of our documents:"
NO_ACCOUNT_ACCESS = "I can't see your account, so I can't check that for you; our team can."
OTHER_INSTITUTION = (
    "I can only answer questions about Fernhollow Bank's own products and services, not {name}'s."
)

__all__ = [
    "ACCOUNT_QUERY",
    "ADVICE_DISCLAIMER",
    "BINARY_REPLY",
    "CONTACT_QUERY",
    "EMPATHY",
    "EMPTY_REPLY",
    "HANDOFF_CREATED",
    "HANDOFF_OFFER",
    "INJECTION_REPLY",
    "MODEL_DOWN_NOTE",
    "NEGATIVE_HANDOFF",
    "NO_ACCOUNT_ACCESS",
    "OTHER_INSTITUTION",
    "OUT_OF_SCOPE",
    "SAFETY_CHECK_INS",
    "SAFETY_INTROS",
    "SAFETY_QUERIES",
    "TOO_LONG_REPLY",
]
