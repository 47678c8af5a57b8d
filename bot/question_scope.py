"""Two kinds of question the bank's documents can never answer, however well retrieval matches them:
- the state of the customer's own account ("did my wire go through?", "how much do I still owe?",
  "what's my credit limit?"): the assistant cannot see accounts;
- another institution's products ("What does Ally charge for a wire?"): the documents describe Fernhollow.

Retrieval matches such questions to the passage on the same topic (Fernhollow's wire fee), and the model then
quotes it as if it answered. These rules run before retrieval and route them to a "don't know" with the
right pointer. Patterns were written against the training questions of knowledge/eval/scope_train*.jsonl
(personal_account and other_bank kinds, against the in-scope ones and retrieval_train*.jsonl); the
held-out bot/eval questions only measure them (`python -m bot.eval`).

`asks_question` tells a question or a search-style query ("cost to stop a check") from a message that only
tells what happened ("I lost my card on the train"): a turn on a scripted route (safety steps, the support
line, the complaints route) also answers what was asked, and a statement gets the script alone. Measured on
training data only: 1,456 of the 1,524 questions of knowledge/eval/retrieval_train*.jsonl read as asking,
82 of the 593 high-risk messages of finetune/data/risk/written_train*.jsonl when the rule was written
("charges i didnt make on my acct!!! what do i do", "lost card, need a replacement overnighted"); 172 of
the 913 high-risk messages there now (2026-11-25: two more files, written with more questions in them).

It deliberately does not judge anything else: products Fernhollow does not offer, facts the documents lack
and off-topic requests are left to the retrieval's scope model and to the model.
"""

from __future__ import annotations

import re

_S = r"(?:[^?.]|\.(?=\S))"  # within one sentence: any character but "?" or a full stop ("$12.99" is fine)
_ACCOUNT_STATE = [
    # an event on the customer's own money: "did my wire to the title company go through"
    r"\b(?:did|has|have|was|were)\b{_S}*\bmy\b{_S}*\b(?:go(?:ne)? through|arrived?|get there|got there|clear(?:ed)?"
    r"|cashed|approved|processed|posted|hit|show(?:n|ed)? up|land(?:ed)?|come in|gone out|reversed|refunded|"
    r"credited|received|decided|resolved|reviewed)\b",
    r"\bdid (?:you|the bank|fernhollow|they|y'all) (?:get|receive|close|approve|process|decline|charge|send|cancel|"
    r"reverse|refund|freeze|block|lock|deny|reject|change)\b{_S}*\b(?:my|me)\b",
    r"\bwhy (?:was|were|did|is|has|have|are)\b{_S}*\bmy\b{_S}*\b(?:returned|stopped|closed|reversed|lower|"
    r"less|different|denied|cancell?ed|flagged)\b{_S}*\b(?:yesterday|today|last|this|on \w+day|friday)\b",
    r"\bwhy (?:was|were|did|am) i (?:charged|billed|declined|denied|locked out|flagged)\b",
    # balances, limits, rates and numbers that belong to the customer
    r"\b(?:what'?s|whats|what is|how much is|tell me|show me)\b{_S}{0,20}\b(?:the |my )?(?:current |available "
    r"|statement |remaining |exact )?(?:balance|available credit|credit limit|payoff amount|last (?:4|four)|case "
    r"number|claim number)\b{_S}*\bmy\b",
    r"\bmy (?:current |available |exact |checking |savings )?(?:balance|available credit|credit limit|payoff amount)"
    r"\b{_S}*\b(?:right now|today|now|currently|at the moment)\b",
    r"\b(?:what'?s|what is|whats|what are|tell me|show me)(?: the)? my\b{_S}{0,25}\b(?:balance|apr|credit "
    r"limit|due date|payment amount|points|pin|last (?:4|four)|account number|status)\b",
    r"\bhow much (?:do|did|have|will) i (?:still |currently )?(?:owe|earn(?:ed)?|paid|deposit(?:ed)?|spent|"
    r"spend|have left|get back)\b",
    r"\bhow (?:much|many)\b{_S}*\b(?:left|remaining|did i|have i (?:made|used|earned|paid|spent))\b{_S}*\bmy\b",
    r"\bhow (?:much|many)\b{_S}*\bmy\b{_S}*\b(?:this|last) (?:month|week|year|cycle|statement)\b",
    r"\b(?:left|remaining) (?:on|in) my\b",
    r"\bam i (?:still )?(?:in|inside|under|within|over|past|behind|late|eligible for the|enrolled|signed up)\b",
    r"\bwhat (?:rate|apr|apy|amount|date|day) (?:did|do|will) i\b",
    r"\bwhen (?:is|does|will|did) my next\b",
    r"\bwhen (?:does|will|did) my [\w' -]{0,30}?\b(?:come due|mature|post|show up|clear|hit)\b",
    r"\bwhich date does my\b",
    r"\b(?:is|are) (?:there )?(?:a |any )?holds? on my\b",
    r"\bis my\b{_S}*\b(?:yet|still|turned on|switched on|active|activated|on file|approved|open|closed|frozen|"
    r"locked|overdrawn|in good standing)\b",
    r"\b(?:on file for me|the address you have)\b",
    r"\b(?:claim|case|reference|ref|ticket|dispute)(?: number| no\.?| #)? ?#?\d{4,}\b",
    r"\bwhere (?:is|does|do) (?:my|things with my)\b{_S}*\b(?:stand|application|claim|complaint|dispute|"
    r"request|card|refund|replacement|transfer|payment|check)\b",
    r"\b(?:my|the) (?:application|claim|complaint|dispute|request|case|refund)\b{_S}*\b(?:stand|status|"
    r"approved|decided|update)\b",
    r"\bwho (?:are|is) (?:the )?(?:authori[sz]ed users?|joint owners?|beneficiar(?:y|ies)) on my\b",
    r"\bwhat time did my\b",
    r"\bstatus of my\b",
    r"\bwhat (?:interest )?(?:rate|apr) did i get\b",
    r"\b(?:what|how much) did i (?:spend|pay|get|earn|deposit|withdraw)\b",
    r"\bhow much (?:money )?is (?:in|sitting in|left in|left on) my\b",
    r"\bmy last (?:\w+ ){0,2}(?:transactions?|deposit|payment|statement|charge|login)\b",
    r"\bhave i (?:earned|made|used|spent|paid|received)\b",
    r"\b(?:why|did|has|have|is)\b{_S}*\bmy\b{_S}*\b(?:an hour ago|minutes ago|this morning|last night|yesterday|"
    r"on (?:mon|tues|wednes|thurs|fri|satur|sun)day)\b",
    r"\bwhy (?:is|was) there a\b{_S}*\bcharge\b{_S}*\bmy\b",
    r"\bwhat (?:is|was) (?:that|this) \$?\d",
    r"\bhas (?:my|the)\b{_S}*\b(?:been (?:mailed|sent|shipped|cancell?ed|cashed|paid)|cleared|shipped)\b",
    r"\bdid (?:my|the)\b{_S}*\bget (?:sent|paid|there|through|approved)\b",
    r"\b(?:yesterday|this morning|last night|last week|on (?:monday|tuesday|wednesday|thursday|friday|saturday"
    r"|sunday))\b{_S}*\bwhy\b|\bwhy\b{_S}*\bmy\b{_S}*\b(?:yesterday|this morning|last night|last week|today)\b",
]
_ACCOUNT_RE = [re.compile(p.replace("{_S}", _S), re.IGNORECASE) for p in _ACCOUNT_STATE]

# Banks, card issuers, brokers and payment apps a US customer is likely to name. Fernhollow's documents name
# none of them (checked when the list was written), so a question about one of them is not about Fernhollow.
_INSTITUTIONS = (
    "ally", "american express", "amex", "apple card", "apple cash", "bank of america", "boa", "bofa",
    "barclays", "bmo", "capital one", "cash app", "chase", "chime", "citi", "citibank", "citizens bank",
    "credit karma", "discover", "etrade", "e\\*trade", "fidelity", "fifth third", "goldman sachs",
    "google pay", "hsbc", "huntington", "jpmorgan", "keybank", "key bank", "klarna", "affirm", "marcus",
    "monzo", "n26", "navy federal", "paypal", "pnc", "regions", "revolut", "robinhood", "schwab",
    "charles schwab", "sofi", "santander", "synchrony", "td bank", "truist", "usaa", "u\\.s\\. bank",
    "us bank", "usbank", "varo", "vanguard", "venmo", "wells fargo", "wise", "western union", "remitly",
    "zelle", "golden 1", "banner bank", "td ameritrade", "coinbase", "square", "stripe", "moneygram",
    "american airlines", "delta", "visa", "mastercard",
)  # fmt: skip
_NOT_ALONE = {"square", "delta", "visa", "mastercard", "wise", "regions", "discover", "citizens bank"}
_INSTITUTION_RE = re.compile(
    r"(?<![\w-])(" + "|".join(sorted(_INSTITUTIONS, key=len, reverse=True)) + r")(?:'s)?(?![\w-])",
    re.IGNORECASE,
)
# Moving money or cards between Fernhollow and another institution is a Fernhollow question.
_BETWEEN = re.compile(
    r"\b(?:from|to|into|out of|with|via|through|using|link|linked|connect|switch(?:ing)?|refinanc\w*|"
    r"transfer\w*|move|moving|send|sending|receive|receiving|pay off|payoff|balance transfer|add)\b[^?.]{0,40}$",
    re.IGNORECASE,
)
# The question also speaks of Fernhollow ("you", "here"): it compares or moves money, it is ours to answer.
_ALSO_US = re.compile(r"\b(?:fernhollow|you|your|y'all|here|this bank)\b|(?:\blike\b)", re.IGNORECASE)
# Words that make a generic name refer to the company ("discover card", "square app", "visa fee").
_CONTEXT = re.compile(r"\b(?:bank|card|cards|app|account|it|checking|savings|credit union)\b", re.IGNORECASE)


def _normalise(text: str) -> str:
    """Straight apostrophes and single spaces, so the patterns need one spelling of each."""
    return " ".join(text.replace("\u2019", "'").split())


def account_state_question(text: str) -> bool:
    """The question asks about the customer's own account (a balance, a payment's status, their limit),
    which the assistant cannot see."""
    t = _normalise(text)
    return any(p.search(t) for p in _ACCOUNT_RE)


def other_institution(text: str) -> str | None:
    """The other bank or payment company the question is about, or None (none named, or the question is
    about moving money or cards between it and Fernhollow)."""
    t = _normalise(text)
    if _ALSO_US.search(t):
        return None
    for m in _INSTITUTION_RE.finditer(t):
        name = m.group(1).lower()
        before = t[: m.start()]
        after = t[m.end() : m.end() + 12]
        if name in _NOT_ALONE and not _CONTEXT.match(after.strip() or "-"):
            continue
        if _BETWEEN.search(before) or re.match(r"\s*(?:account|card)\s+(?:to|into)\b", after, re.IGNORECASE):
            continue
        return m.group(1)
    return None


_AUX = r"(?:can|could|do|does|did|is|are|am|will|would|should|shall|may|must|have|has)"
_CLAUSE = r"(?:^|[,.;:!?]\s*)"  # the start of the message or of a clause
_ASKS = re.compile(
    r"\?|\b(?:whom|whose|legit|allowed|wondering|explain|tell me)\b"
    r"|" + _CLAUSE + r"(?:what|how|when|where|who|which|why|whats|hows|whos|wheres|if|any|anything)\b"
    r"|\b(?:what|how|when|where|who|which|why)(?:'s|'re| " + _AUX + r")\b"
    r"|" + _CLAUSE + _AUX + r"\b"
    r"|\b(?:can|could|do|does|is|will|should) (?:i|u|you|it|there)\b",
    re.IGNORECASE,
)
_TELLS = re.compile(
    r"^(?:i|i'm|im|i've|ive|my|me|we|we're|our|someone|somebody|some(?:one|body) has|there's|theres|there is|"
    r"this|that|you|your|ur)\b",
    re.IGNORECASE,
)
KEYWORD_QUERY_MAX_WORDS = 10


def asks_question(text: str) -> bool:
    """The message asks something: a question mark, a question word, an auxiliary that opens a question
    ("can I", "is there"), or a short search-style query that does not open by telling ("used auto loan
    apr", not "I lost my card on the train")."""
    t = _normalise(text)
    if _ASKS.search(t):
        return True
    return len(t.split()) <= KEYWORD_QUERY_MAX_WORDS and not _TELLS.match(t)
