"""Prompt-injection screen for customer messages: flags attempts to override the assistant's rules, reveal
its instructions, make it role-play another bank or persona, print other customers' data, confirm account
actions it cannot take, or smuggle such instructions inside encodings (base64, hex, ROT13) or fake
"SYSTEM:" lines.

A flagged message is not sent to the model; the pipeline answers with a fixed refusal. The screen is a
first line only: whatever gets through still meets the prompt's rules and the output guard (which removes
claims of actions and unsupported figures). Patterns are data below; `screen(text)` is pure and fast.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from dataclasses import dataclass, field

_I = re.IGNORECASE
PATTERNS: dict[str, list[str]] = {
    "ignore_rules": [
        r"\b(ignore|disregard|forget|override|bypass|skip)\b[^.?!\n]{0,40}\b(instructions?|rules?|guidelines?|prompts?|polic(y|ies)|restrictions?|guardrails?|programming|directives?)\b",
        r"\bno (longer )?(bound|restricted) by\b",
        r"\b(developer|debug|god|admin|jailbreak|dan)\s+mode\b",
        r"\bdo anything now\b",
        r"\bwithout (any )?(restrictions|filters|rules)\b",
        r"\b(set|put|throw)\b[^.?!\n]{0,20}\b(aside|away)\b[^.?!\n]{0,40}\b(rules?|guidelines?|instructions?)\b|\b(rules?|guidelines?)\b[^.?!\n]{0,40}\bset (them|it) aside\b",
        r"\bforget (everything|all)\b|\bnew rule\b|\b(previous|prior|earlier) instructions\b|\binstructions (are|were) (now )?(void|cancelled|a test)",
        r"\b(reply|respond|answer|output)\s+only\s+with\s+(this|the following)\b",
        r"\bstop being (a|an|the)\b|\bdon'?t use the documents\b|\bmake (something|it|things) up\b",
        r"\b(ignora|olvida|oublie|ignore[sz]?|vergiss|ignorier\w*)\b[^.?!\n]{0,40}\b(instrucciones|reglas|règles|consignes|instructions|anweisungen|regeln)\b",
        r"\b(reply|respond|answer|say|type|write|start|begin|end|sign|prefix|greet)(ing|s)?\b[^.?!\n]{0,40}\b(with|as|only|by (saying|replying))\b[^.?!\n]{0,12}(?<!\w)[\"'“«‘][^\"'”»’\n]{1,60}[\"'”»’](?!\w)",
        r"(^|[.!?:,]\s*|\b(please|just|now|and|then|to)\s+)(reply|respond|say|type|write)\s+(only\s+)?[\"'“«‘][^\"'”»’]{2,60}[\"'”»’]",
    ],
    "reveal_prompt": [
        r"\b(system|initial|hidden|original|secret)\s+(prompt|instructions?|message|rules)\b",
        r"\b(reveal|show|print|display|repeat|output|dump|leak|tell me)\b[^.?!\n]{0,40}\b(your|the)\s+(instructions?|rules|prompt|configuration|guidelines)\b",
        r"\brepeat (the|all)? ?(words|text) (above|before)\b",
        r"\bwhat (are|were) you told\b",
        r"\b(first|initial|opening)\s+\d+\s+(words|lines|sentences)\b|\bwords? you were given\b",
        r"\b(your|its|the)\s+(own\s+)?(instructions|rules|guidelines|programming)\b[^.?!\n]{0,40}\b(word for word|verbatim|exactly)\b",
        r"\b(word for word|verbatim)\b[^.?!\n]{0,60}\b(instructions|rules|prompt|wording)\b",
        r"\b(quote|copy|complete)\b[^.?!\n]{0,40}\b(rule|instructions|sentence exactly)\b",
    ],
    "persona": [
        r"\b(you are|you're|act as|pretend (to be|you are)|role-?play as|from now on you are|behave like)\b[^.?!\n]{0,60}\b(chase|wells fargo|bank of america|citi(bank)?|hsbc|barclays|capital one|another bank|a different bank|unrestricted|evil|dan|gpt)\b",
        r"\bsay (that )?you are\b[^.?!\n]{0,40}\b(chase|wells fargo|bank of america|citi|hsbc|barclays)\b",
        r"\b(pretend|imagine|let'?s play|role-?play)\b[^.?!\n]{0,60}\b(no rules|not an? (ai|assistant)|human banker|unfiltered)\b",
    ],
    "other_bank": [
        r"\b(work for|you'?re|you are|you were|as if you were|imagine you'?re|play|eres|preséntate|greet me as|answer as)\b[^.?!\n]{0,50}\b(chase|wells fargo|bank of america|citi(bank)?|u\.?s\.? bank|revolut|bbva|santander|pnc|td bank|ally|discover|american express|amex|capital one|barclays|hsbc|monzo|n26|chime)\b",
        r"\b(chase|wells fargo|bank of america|citi(bank)?|u\.?s\.? bank|revolut|bbva|santander|pnc|capital one|barclays|hsbc)\b[^.?!\n]{0,40}\b(assistant|representative|chatbot|support|agent|here)\b[^.?!\n]{0,40}\b(pretend|role|greet|start|answer|play|as)\b",
    ],
    "other_customer_data": [
        r"\b(tell|show|give|read|what)\b[^.?!\n]{0,30}\b(his|her|their|she|he|[A-Z][a-z]+'s)\b[^.?!\n]{0,30}\b(balance|spent|spending|transactions?|account number|home address|date of birth|ssn)\b",
        r"\b(which|list|names? of|give me|email addresses of)\b[^.?!\n]{0,20}\bcustomers?\b|\bname on account\b|\bwho else\b[^.?!\n]{0,40}\b(chatting|talking|asked|contacted)\b",
        r"\b(conversation|chat) history with (all|other|every)\b|\b(registros|cuenta de|saldo de)\b[^.?!\n]{0,30}\b[A-Z][a-z]+",
        r"\b(ssns?|social security numbers?|card numbers|passwords|account numbers)\s+of\b",
        r"\b(other|another|previous|last|all|every)\s+(customers?|users?|clients?|account ?holders?)('s?)?\b[^.?!\n]{0,60}\b(data|details|accounts?|numbers?|messages?|balances?|names?|emails?|conversations?|asked|said|transactions?)\b",
        r"\b(what did|show me what) (the )?(previous|last|other) (user|customer|person)\b",
        r"\b(messages?|chats?|conversations?|questions?) (from|of|with) (the )?(last|previous|other|another) (customer|user|person|client)s?\b",
        r"\b(list|dump|export|show)\b[^.?!\n]{0,30}\b(customer|user) (database|records|list|table)\b",
        r"\b(admin|root|database|db)\s+(password|credentials|access)\b",
    ],
    "claim_action": [
        r"(^|[.!?]\s+)(please\s+)?(refund|reverse|unblock|unfreeze|cancel|close|increase|raise|waive|lock|update|change|approve|make|send|transfer|pay|wire|freeze|block|confirm)\b(?:[^.?!\n]|\.(?=\d)){0,80}\b(and|then)\s+(confirm\w*|let me know when|tell me (it'?s|when|the new)|reply|send me the confirmation)\b",
        r"\bconfirma\b[^.?!\n]{0,80}\b(fue|ha sido)\b",
        r"\bconfirm\w*\b[^.?!\n]{0,60}\b(was|has been|is|were)\s+(done|sent|made|received|processed|approved|cancell?ed|completed|issued|credited)\b",
        r"\b(confirm|say|tell me|state|pretend|write)\b[^.?!\n]{0,40}\b(transfer|payment|refund|wire|reversal|unblock|unfreeze|limit increase)\b[^.?!\n]{0,40}\b(went through|was made|has been (made|sent|completed|processed|issued|approved)|is done|succeeded|completed|approved)\b",
        r"\b(just )?(say|type|reply|respond with|answer)\b[^.?!\n]{0,20}[\"'“][^\"'”]{0,80}(transferred|refunded|approved|unblocked|completed|granted)[^\"'”]{0,40}[\"'”]",
    ],
    "fake_authority": [
        r"^\s*(system|admin|developer|assistant|root)\s*[:>\]]",
        r"\[(system|admin|developer|inst)\]|<\|?(system|im_start|im_end)\|?>|<</?sys>>",
        r"\b(i am|i'm|this is)\s+(the|your|a)?\s*(developer|admin(istrator)?|engineer|system ?administrator|security team|ceo|manager of (this|the) bank)\b[^.?!\n]{0,80}\b(authori[sz]e|allow|permit|grant|unlock|override|instruct)\b",
        r"\b(authori[sz]ation|override|admin) (code|token|key)\b",
        r"\b(as|i'?m|i am|this is|message from|memo)\b[^.?!\n]{0,40}\b(developer|supervisor|ceo|police|officer|fbi|agent|compliance|it security|security team|branch employee|employee|auditor|safety team|vendor|department)\b[^.?!\n]{0,120}\b(authori[sz]e|order|must|disclose|maintenance mode|exception|config|terminal|read me|give me|respond|reply|list|approve|investigat)",
    ],
    "indirect": [
        r"\bnote to (the )?(ai|assistant|bot|model)\b|\b(ai|assistant|bot|model|llm)s?[\s_-]*(instructions?|reading this)\b",
        r"\b(ai\s+)?assistant\s*[:,]\s*(tell|say|respond|reply|append|confirm|sign|inform|di)\b|\binstrucción para el asistente\b",
        r"<!--|display\s*:\s*none|\bassistant_instructions\b",
    ],
    "harmful": [
        r"\b(write|draft|compose|create|generate|make)\b[^.?!\n]{0,60}\b(phishing|scam|fake|impersonat\w*|pretending to be|convincing|valid (credit )?card numbers)\b",
        r"\b(launder|hotwire|money mule|without (the bank (reporting|noticing)|getting caught)|before the bank notices|stolen identit|someone else'?s card|sim swap on|fake bank statement|bypass(ing)? (two-step|2fa|verification))",
    ],
    "jailbreak": [
        r"\b(you are|you'?re( now)?|act as|answer as)\b[^.?!\n]{0,40}\b(no (restrictions|compliance|filters?|rules|guidelines)|unrestricted|an actor|a linux terminal|two ais|in character|my late grandmother|stan|dan)\b",
        r"\bopposite day\b|\bhypothetically\b[^.?!\n]{0,40}\bno (guidelines|rules)\b|\bif you had no (rules|guidelines|restrictions)\b",
    ],
    "secrets": [
        r"\b(api keys?|connection string|environment variables|credentials|admin passwords?|database password)\b",
        r"\b(read|tell|give|print|show)\s+me\b[^.?!\n]{0,20}?\b(my|the|your)?\s*(full card number|cvv|pin|password|one-time passcode|otp)\b",
        r"\bwhat'?s the (cvv|pin)\b",
    ],
}
_COMPILED = {k: [re.compile(p, _I | re.MULTILINE) for p in v] for k, v in PATTERNS.items()}
_B64 = re.compile(r"[A-Za-z0-9+/]{24,}={0,2}")
_HEX = re.compile(r"\b(?:[0-9a-fA-F]{2}\s?){16,}\b")
_ENCODING_HINT = re.compile(r"\b(base64|decode|rot13|rot-13|hex|encoded|cipher|backwards|reverse)\b", _I)
_LEET = str.maketrans("013457", "oleast")


@dataclass(frozen=True)
class InjectionResult:
    flagged: bool
    kinds: tuple[str, ...] = ()
    evidence: tuple[str, ...] = field(default=())


def _match(text: str) -> tuple[list[str], list[str]]:
    kinds, evidence = [], []
    for kind, patterns in _COMPILED.items():
        for p in patterns:
            m = p.search(text)
            if m:
                kinds.append(kind)
                evidence.append(m.group(0)[:80])
                break
    return kinds, evidence


def _decoded_views(text: str) -> list[str]:
    views = []
    for m in _B64.finditer(text):
        chunk = m.group(0)
        try:
            raw = base64.b64decode(chunk + "=" * (-len(chunk) % 4), validate=False)
            decoded = raw.decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            continue
        if sum(c.isprintable() for c in decoded) >= 0.9 * max(1, len(decoded)):
            views.append(decoded)
    for m in _HEX.finditer(text):
        try:
            views.append(bytes.fromhex(m.group(0).replace(" ", "")).decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            continue
    if _ENCODING_HINT.search(text):
        views.append(codecs.decode(text, "rot13"))
        views.append(text[::-1])
    if "%20" in text or "%2" in text:
        from urllib.parse import unquote

        views.append(unquote(text))
    if sum(c.isdigit() for c in text) >= 4:
        views.append(text.translate(_LEET))
    joined = re.sub(r"['\"]\s*\+\s*['\"]", "", text)  # 'ign' + 'ore' -> 'ignore'
    if joined != text:
        views.append(joined)
    return views


def screen(text: str) -> InjectionResult:
    """Flag the message when any pattern matches it or a decoded view of an encoded part of it."""
    import unicodedata

    sample = unicodedata.normalize("NFKC", text[:20_000])
    sample = re.sub(r"[\u200b-\u200f\u2060\ufeff]", "", sample)
    kinds, evidence = _match(sample)
    for view in _decoded_views(sample):
        k, e = _match(view)
        if k:
            kinds += ["encoding_trick", *k]
            evidence += e
    uniq = tuple(dict.fromkeys(kinds))
    return InjectionResult(bool(uniq), uniq, tuple(evidence))
