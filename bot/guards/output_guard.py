"""The last check on a generated reply before the customer sees it.

Per sentence: drop it when it states a figure (amount, percentage, time, date, phone number) that neither
the passages nor the customer's message contains, names a bank product the passages do not mention,
claims an action on the customer's account ("I have frozen your card"), cites a passage that does not
exist, loops on a phrase within itself ("Example: Example: Example: Example: ..."), or says again what the
reply already said (a small model sometimes loops on a sentence). Personal data in what remains is masked;
the bank's own published contacts, and any phone number or e-mail address the turn's passages print (the
FDIC's line quoted from the deposit-insurance page), are allowed. When nothing cited remains
of a reply that should answer, the caller falls back to a cited extract of the best passage
(bot/extractive.py). `StreamingVerifier` does the same sentence by sentence while tokens arrive, so verified
text can stream. It never adds facts of its own.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

from .grounding import citations, unsupported_figures
from .pii import contact_allowlist, mask_pii

ACTION_CLAIM = re.compile(
    r"\b(i|we)(\s+have|'ve|\s+just|\s+already|\s+will\s+now|\s+now)?\s+"
    r"(frozen|froze|blocked|cancell?ed|unblocked|unfrozen|transferred|sent|moved|reversed|refunded|waived|"
    r"approved|closed|opened|updated|changed|reset|increased|raised|issued|credited|deposited|disputed|"
    r"filed|submitted|locked|processed|paid|reported)\b"
    r"|\b(your|the)\s+(card|account|transfer|payment|refund|wire|dispute|limit|request|fee|claim)\s+"
    r"(has|have|is|was)\s+(now\s+)?(been\s+)?(frozen|blocked|cancell?ed|unblocked|completed|sent|reversed|"
    r"refunded|waived|approved|closed|processed|issued|credited|received|filed|submitted|locked|increased)\b",
    re.IGNORECASE,
)
PRODUCT = re.compile(
    r"\b(?:Fernhollow\s+)?(?:[A-Z][a-z]+\s+){0,3}"
    r"(?:Checking|Savings|Card|Credit Card|Debit Card|Loan|CD|Mortgage|Account|Line of Credit|Rewards)\b"
)
GENERIC_PRODUCT_WORDS = {"card", "account", "loan", "savings", "checking", "cd", "mortgage", "rewards"}
LOOP_REPEATS = 4  # a phrase of 1-4 words said this many times in a row is a loop, not an answer
_LEADING = {"the", "your", "a", "an", "our", "my", "this", "that", "each", "any", "with", "for", "and", "or",
            "if", "when", "yes", "no", "new", "every", "all", "both", "its", "their", "his", "her", "on", "in"}  # fmt: skip


@dataclass
class Verdict:
    text: str
    dropped: list[dict] = field(default_factory=list)  # {"sentence", "reason"}
    cited: list[int] = field(default_factory=list)
    pii_masked: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.dropped or self.pii_masked)


def _products(text: str) -> set[str]:
    found = set()
    for m in PRODUCT.finditer(text):
        words = m.group(0).split()
        while words and words[0].lower() in _LEADING:
            words.pop(0)
        name = " ".join(words)
        words = name.lower().split()
        if len(words) >= 2 and not set(words) <= GENERIC_PRODUCT_WORDS:
            found.add(name.lower())
    return found


def loops(sentence: str, repeats: int = LOOP_REPEATS, longest: int = 4) -> bool:
    """The sentence says one phrase of 1 to `longest` words `repeats` times in a row (punctuation and case
    aside): "Example: Example: Example: Example:". Lists with a repeated word ("3 points; ... 3 points") do
    not count: the repeats must follow one another."""
    words = re.findall(r"[\w$%.,:/-]+", sentence.lower())
    words = [w for w in (w.strip(".,:") for w in words) if w]
    for n in range(1, longest + 1):
        for i in range(len(words) - n * repeats + 1):
            unit = words[i : i + n]
            if all(words[i + k * n : i + (k + 1) * n] == unit for k in range(1, repeats)):
                return True
    return False


class SentenceChecker:
    def __init__(self, passages: Sequence[str], question: str, allow: Collection[str] = ()) -> None:
        self.sources = [*passages, question]
        self.n_passages = len(passages)
        self.lower_sources = " ".join(s.lower() for s in self.sources)
        # Contacts the passages print are published text, not a customer's data (the question's are not).
        self.allow = frozenset(allow) | contact_allowlist(passages)

    def problem(self, sentence: str) -> str | None:
        bad = unsupported_figures(sentence, self.sources)
        if bad:
            return "unsupported figure: " + ", ".join(f.text for f in bad)
        if ACTION_CLAIM.search(sentence):
            return "claims an account action"
        if loops(sentence):
            return "loops on a phrase"
        cited = citations(sentence)
        if any(n < 1 or n > self.n_passages for n in cited):
            return f"cites a passage that does not exist ({cited})"
        unknown = [p for p in _products(sentence) if p not in self.lower_sources]
        if unknown:
            return "product not in the passages: " + ", ".join(unknown)
        return None

    def clean(self, sentence: str) -> tuple[str, dict[str, int]]:
        m = mask_pii(sentence, allow=self.allow)
        return m.text, m.counts


def verify(reply: str, passages: Sequence[str], question: str, allow: Collection[str] = ()) -> Verdict:
    """The whole reply at once: the streaming verifier fed in one piece."""
    v = StreamingVerifier(passages, question, allow)
    for _ in v.feed(reply):
        pass
    return v.finish()


def _said(sentence: str) -> str:
    """What a sentence says, for spotting a repeat: no citations, end punctuation or case."""
    return " ".join(re.sub(r"\[\d{1,2}\]", " ", sentence).lower().strip(" .!?").split())


class StreamingVerifier:
    """Feed tokens; get back verified whole sentences as soon as each one ends."""

    _END = re.compile(r"[.!?](\s*\[\d{1,2}\])*[.!?]?\s+(?=\S)")

    def __init__(self, passages: Sequence[str], question: str, allow: Collection[str] = ()) -> None:
        self.checker = SentenceChecker(passages, question, allow)
        self.buffer = ""
        self.verdict = Verdict("")
        self._kept: list[str] = []
        self._said: set[str] = set()  # kept sentences without citations, lower case
        self.tail = ""  # the verified last sentence, set by finish()

    def _take(self, sentence: str) -> str:
        sentence = sentence.strip()
        if not sentence:
            return ""
        said = _said(sentence)
        reason = self.checker.problem(sentence) or (
            "repeats an earlier sentence" if said in self._said else None
        )
        if reason:
            self.verdict.dropped.append({"sentence": sentence, "reason": reason})
            return ""
        text, counts = self.checker.clean(sentence)
        for k, c in counts.items():
            self.verdict.pii_masked[k] = self.verdict.pii_masked.get(k, 0) + c
        self._kept.append(text)
        self._said.add(said)
        return text

    def feed(self, piece: str) -> Iterable[str]:
        self.buffer += piece
        while True:
            m = self._END.search(self.buffer)
            if not m:
                return
            sentence, self.buffer = self.buffer[: m.end()], self.buffer[m.end() :]
            out = self._take(sentence)
            if out:
                yield out

    def finish(self) -> Verdict:
        tail = self.buffer
        self.buffer = ""
        self.tail = self._take(tail)
        self.verdict.text = " ".join(self._kept)
        self.verdict.cited = citations(self.verdict.text)
        return self.verdict
