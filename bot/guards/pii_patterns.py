"""Patterns, word lists, tables, checksums and the phone and name rules for `bot.guards.pii`.

Every regular expression here is written so that it cannot backtrack catastrophically: no nested
quantifiers over overlapping character classes, every repetition either bounded or separated by a
mandatory delimiter. `tests/bot/guards/test_pii.py` times 100 KB adversarial inputs against them.
The keyword and cue patterns have no IGNORECASE flag: they run on `ascii_lower(text)` (same length and
offsets as the text, several times faster than re.I).
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

import phonenumbers

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def ascii_lower(text: str) -> str:
    return text.translate(_ASCII_LOWER)


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_ok(compact: str) -> bool:
    """ISO 13616 check digits (mod 97) of an upper-case IBAN without separators."""
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def aba_ok(digits: str) -> bool:
    """The check digit of a 9-digit US routing (ABA) number."""
    d = [int(c) for c in digits]
    return (3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + d[2] + d[5] + d[8]) % 10 == 0


def ssn_ok(area: str, group: str, serial: str) -> bool:
    """Issuable SSN: area not 000, 666 or 900-999; group not 00; serial not 0000."""
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


@lru_cache(maxsize=64)
def iban_body(n: int) -> re.Pattern[str]:
    """Exactly `n` letters or digits, single spaces or dashes allowed between them, then a boundary."""
    return re.compile(r"(?:[ -]?[A-Za-z0-9]){" + str(n) + r"}(?![A-Za-z0-9])")


# IBAN length per country, from the SWIFT IBAN registry (release 101; the same table python-stdnum ships).
_IBAN_TABLE = (
    "AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BI27 BR29 BY28 CH21 CR22 CY28 CZ24 DE22 DJ27 DK18 "
    "DO28 EE20 EG29 ES24 FI18 FK18 FO18 FR27 GB22 GE22 GI23 GL18 GR27 GT28 HN28 HR21 HU28 IE22 IL23 "
    "IQ23 IS26 IT27 JO30 KW30 KZ20 LB28 LC32 LI21 LT20 LU20 LV21 LY25 MC27 MD24 ME22 MK19 MN20 MR27 "
    "MT31 MU30 NI28 NL18 NO15 OM23 PK24 PL28 PS29 PT25 QA29 RO24 RS22 RU33 SA24 SC31 SD18 SE24 SI19 "
    "SK24 SM27 SO23 ST25 SV28 TL23 TN24 TR26 UA29 VA22 VG24 XK20 YE30"
)
IBAN_LENGTHS: dict[str, int] = {item[:2]: int(item[2:]) for item in _IBAN_TABLE.split()}

# --- number-shaped text -------------------------------------------------------------------------------
# A run of digit groups joined by single separators (1-3 spaces, one newline, or a dash, slash or dot with
# optional spaces). It never starts inside a number ("$4,111.11" gives the runs "4" and nothing after the
# comma); the groups are then regrouped by the detectors (card windows, account numbers).
DIGIT_RUN = re.compile(r"(?<![\d.,+])\d+(?:(?:[ \t]{1,3}|[ \t]?\n[ \t]?|[ \t]?[-/.][ \t]?)\d+)*(?!\d)")
DECIMAL = re.compile(r"[\d.]*\.\d{1,2}")  # 1234.56: an amount
DATE_LIKE = re.compile(
    r"(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}|\d{1,2}/\d{2,4}|\d{4}-\d{4})"
)
CURRENCY_BEFORE = re.compile(r"(?:[$€£¥₹]|\b(?:usd|eur|gbp|chf|cad|aud|sek|dkk|nok|pln|mxn)) ?$", re.I)
AFTER_NUMBER_NOT_ID = re.compile(
    r"^(?:[.,]\d|\s?%|\s?(?:percent|dollars?|usd|eur|euros?|pounds?|gbp|bucks|points|miles|days?|months?|"
    r"years?|yrs?|hours?|hrs?|mins?|minutes|pm|am|st|nd|rd|th)\b)",
    re.I,
)
SSN_FORMATTED = re.compile(r"(?<![\d-])(\d{3})([- ])(\d{2})\2(\d{4})(?![\d-])")
NINE_DIGITS = re.compile(r"(?<![\d.,])\d{9}(?![\d])")
IBAN_START = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{2})(\d{2})")
# Phone-shaped runs: an optional +, digits, and the separators people put in phone numbers.
PHONE_RUN = re.compile(r"(?<![\w+])(?:\+|\(\+?)?\d[\d \t().\-/]*\d\)?")
NANP_FORMATTED = re.compile(r"(?:1[ .-]?)?(?:\(\d{3}\)[ ]?|\d{3}[ .\-/])\d{3}[ .-]\d{4}")
# A domain after '@': dot-separated labels, then a 2-24 letter top-level label.
EMAIL_DOMAIN = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,8}[A-Za-z]{2,24}(?![A-Za-z0-9-])"
)
EMAIL_LOCAL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-'")

# --- context words -------------------------------------------------------------------------------------
ACCOUNT_WORDS = re.compile(
    r"\b(?:account|acount|accout|accnt|acct|acc\b|a/c\b|checking\b|savings\b|chequing\b)"
)
# Words that, when nearer to a number than any account word, say it is something else.
NOT_ACCOUNT_WORDS = re.compile(
    r"\b(?:routing|aba|rtn|sort code|swift|bic|order|ref|reference|confirmation|conf|case|ticket|"
    r"tracking|transaction|txn|invoice|claim|zip|postal|box|phone|tel|mobile|cell|call|text|ssn|social|"
    r"card|cards|amount|balance|limit|fee|fees|paid|pay|payment|owe|total|code|pin|otp|"
    r"passcode|id|version|room|flight|gate|step|form)\b"
)
ROUTING_WORDS = re.compile(r"\b(?:routing|aba|rtn|checks?|cheques?)\b")
SSN_WORDS = re.compile(r"\b(?:ssn|ss ?#|ss number|social\b|soc\.? ?sec|tax id\b)")
PHONE_WORDS = re.compile(
    r"\b(?:phone|tel|telephone|mobile|cell|cellphone|call|ring|text|sms|whatsapp|reach|landline|fax|ph)\b"
)

# --- names ---------------------------------------------------------------------------------------------
# A name-like token: letters with inner apostrophes or hyphens (O'Brien, Mary-Jane, Zoë, Siobhán).
NAME_TOKEN = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_SEP = r"[ \t]*[,:;\-–—!]?[ \t]*\n?[ \t]*"
# Strong cues: whatever follows is a name unless it is a common word (lower case accepted).
STRONG_CUES = re.compile(
    r"(?:\bmy\s+(?:full\s+)?nam?e?\s*(?:is|'s|’s|:)|\bmy\s+names\b|\b(?:full\s+|first\s+|last\s+|legal\s+)?"
    r"name\s*[:=]|\bname\s+is\b|\bname\s+on\s+(?:the\s+|my\s+)?(?:card|account)(?:\s+is)?\s*:?|"
    r"\bin\s+the\s+name\s+of\b|\bname(?:\s+[a-z]+){1,4}\s*:|\bmi\s+nombre\s+es\b|\bme\s+llamo\b|\bje\s+m['’]appelle\b|\bich\s+hei(?:ß|ss)e\b)"
    + _SEP
)
# Medium cues: a capitalised token, or a known first name in any case.
MEDIUM_CUES = re.compile(
    r"(?:\b(?:account|card)\s*holder(?:['’]s)?(?:\s+name)?(?:\s+is)?|\bcardholder(?:\s+name)?(?:\s+is)?|"
    r"\b(?:recipient|payee|beneficiary|sender)(?:['’]s)?(?:\s+name)?(?:\s+is)?|\bname(?:\s+\w+){1,3}\s+is\b|\bname\b|\bcall\s+me\b|"
    r"\bmy\s+(?:ex-?\s*)?(?:husband|wife|son|daughter|mother|mom|mum|father|dad|brother|sister|partner|"
    r"friend|landlord|landlady|boss|colleague|coworker|grandmother|grandfather|grandma|grandpa|granny|aunt|"
    r"uncle|niece|nephew|cousin|fianc[ée]e?|girlfriend|boyfriend|spouse|child|kid|carer|caregiver|attorney|"
    r"lawyer|accountant|roommate|flatmate|neighbou?r|employer|tenant|ex|stepson|stepdaughter|stepmother|"
    r"stepfather|guardian|executor|advisor|adviser|manager|doctor|physician))" + r"[ \t]*[,:]?[ \t]*"
)
# Weak cues: only a capitalised token that is not a common word.
WEAK_CUES = re.compile(
    r"(?:\bi\s*['’]?\s*m\b|\bi\s+am\b|\bthis\s+is\b|\bit\s*['’]?s\b|\bhere\s+is\b|"
    r"\b(?:mr|mrs|ms|miss|mx|dr|prof|sir|dame)\b\.?|"
    r"\b(?:ask|asked|asking)\s+for\b|\b(?:speak|spoke|talk|talked|spoken)\s+(?:to|with)\b|"
    r"\b(?:dear|hi|hello|hey)\b|"
    r"\b(?:thanks|thank\s+you|thx|ty|many\s+thanks|regards|kind\s+regards|best\s+regards|warm\s+regards|"
    r"best\s+wishes|best|cheers|sincerely|yours\s+(?:truly|sincerely)|respectfully)"
    r"(?:\s+(?:so|very)\s+much|\s+a\s+lot|\s+again)?\b)" + _SEP
)
# A last line "-- Frank" or "— Ana Lima": a signature.
DASH_SIGNATURE = re.compile(r"[ \t]*(?:--?|–|—|~)[ \t]*")
# "from"/"to" cues: two name tokens needed (or a known first name and a capitalised surname).
# Also an opening bracket right after a number: "to DE89 3704 0044 0532 0130 00 (Klaus Weber)".
PAIR_CUES = re.compile(r"\b(?:from|to|by|with|and|paid|pay|sent|send)\b:?[ \t]+|(?<=\d)[ \t]*\([ \t]*")
NAME_CUES = ((STRONG_CUES, "strong"), (MEDIUM_CUES, "medium"), (WEAK_CUES, "weak"), (PAIR_CUES, "pair"))
_PARTICLES = "van von der den de da del della di dos du le la bin ibn al el ter"
NAME_PARTICLES = frozenset(_PARTICLES.split())
MAX_NAME_TOKENS = 4

# Common words: never taken as a name (lower-cased). Function words, frequent verbs and adjectives, banking
# words, greetings, days and months, and names of banks, brands and places a customer may mention.
_COMMON = """
a about above abroad absolutely account accounts actually address after afternoon again against ago ahead
all almost alone along already also although always am among an and angry annoyed another answer any
anybody anyone anything anyway app apple application applied apply appointment approved april are area
aren't around arrived as ask asked asking at atm atms august authorised authorized available away back bad
balance bank banking banks be because been before being below best better between bill bills both branch
bring brother business busy but buy by call called calling calls came can cancel cancelled cannot can't card
cards care case cash certain change changed charge charged charges chase chat check checking checks cheque
citi closed closing coming complaint confused contact correct could couldn't credit current customer
customers daily date day days dear debit december definitely deposit did didn't different disabled
disappointed discover do does doesn't doing done don't down due during each early either else email
employed end enough error even evening ever every everyone everything exactly fargo fee fees february
fernhollow few file fine finally first following for form found free freeway friday friend from frustrated
full fund funds furious gave get getting give glad go going gone good google got great had happy hard
has hasn't have haven't having he hello help her here hers hey hi him his hold home hope hoping how
however hungry i i'm if important in info information instead interest into is isn't it it's its january
joint july june just keen kind know last late later least leaving less let like limit little loan loans
locked logged long look looking lost lot made mail make many march mark mastercard may maybe me member
message might mine missing mobile monday money month months more morning mortgage most mostly move moving
much must my myself name need needed needs never new next nice no none not nothing november now number
numbers october of off ok okay old on once one online only open or order other our out over overdraft paid
pay paying payment payments paypal pending period person phone please pleased plus pm possible pretty
probably question quick quite rate rather re really received recently regards reply request right
same saturday savings say scared second see sent september service set she should since sir so some
someone something soon sorry statement still stolen stuck student such sunday support sure switching
take team tell than thank thanks that that's the their them then there these they thing things think
this those though through thursday time to today told tomorrow too transfer transfers travelling
traveling trying tuesday two unable under unfortunately unhappy until up upset urgent us use used using
usual very visa waiting want wanted was wasn't way we wednesday week weekend weeks well wells went were
what when where whether which while who whom whose why will wire with without won't worried would wrong
yes yesterday yet you your yours zelle venmo amex american express capital barclays hsbc santander lloyds
monzo revolut wise stripe amazon target walmart costco uber netflix spotify ebay etsy
mr mrs ms miss dr madam team all everyone there folks guys support customer service agent bot assistant
alder falls linden avenue oregon washington idaho nevada california montana portland seattle boise reno
sacramento helena pacific usa us uk america london paris sydney mexico canada spain france germany japan
new york english spanish french german good great fine well ok also sure just only still sorry happy not
very really so too quite new here there back now again away calling writing trying looking having getting
going wondering hoping planning contacting reaching emailing messaging asking interested concerned
confused frustrated worried upset angry annoyed scared afraid done finished ready able unable over under
self retired unemployed pregnant deaf blind hard disabled sick ill fine alright unsure curious aware
afraid stuck locked logged travelling moving based living staying working away home out in on at abroad
overseas outside inside behind online offline yes no hi hello hey dear thanks cheers best regards
sincerely yours kind warm wishes again much lot a an the this that these those which what who whose
customer client user holder owner primary secondary joint authorised authorized spelled spelt misspelled
incorrect shown showing printed listed written wrong different missing same correct changed changing
urgent emergency important quick question problem issue help please sorry apologies hungry starving
tired busy free available unavailable online instant pay payee payer card debit credit checking saving
savings deposit loan mortgage overdraft fraud scam dispute chargeback statement transfer wire atm pin
password passcode code otp fee fees limit rate apr apy interest balance branch app fernhollow bank
high yield premier everyday platinum rewards gold silver premium basic standard classic western union
moneygram remitly xoom cash app line lines desk centre center relations office head services mobile
american canadian british english irish scottish welsh mexican french german spanish italian portuguese
dutch swiss polish indian chinese japanese korean australian brazilian african european asian latino
truly honestly seriously literally totally completely extremely currently actually finally obviously
"""
COMMON_WORDS = frozenset(_COMMON.split())


# --- phone numbers -------------------------------------------------------------------------------------
_NON_DIGIT = re.compile(r"\D")


def phone_strength(s: str, phone_ctx: bool, account_ctx: bool) -> int:
    """2: a phone number by its shape; 1: a bare run of digits that is a valid US number; 0: not a phone."""
    digits = _NON_DIGIT.sub("", s)
    n = len(digits)
    if n < 7 or n > 15:
        return 0
    if s[0] == "+" or s.startswith("(+"):
        return 2 * phone_possible("+" + digits, None)
    if s.startswith("00") and n >= 10 and (not s.isdigit() or (phone_ctx and not account_ctx)):
        return 2 * phone_possible("+" + digits[2:], None)
    if NANP_FORMATTED.fullmatch(s):
        return 2
    if s.isdigit() and (n == 10 or (n == 11 and s[0] == "1")):
        return 0 if account_ctx else 2 if phone_ctx else int(valid_us(s))
    if phone_ctx and s[0] == "0" and 9 <= n <= 12:
        return 2 * any(phone_possible(s, region) for region in ("GB", "IE", "FR", "DE", "AU", "NZ"))
    return 2 * (phone_ctx and bool(re.fullmatch(r"\d{3}[-. ]\d{4}", s)))


def phone_possible(s: str, region: str | None) -> bool:
    try:
        return phonenumbers.is_possible_number(phonenumbers.parse(s, region))
    except phonenumbers.NumberParseException:
        return False


def valid_us(s: str) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(s, "US"))
    except phonenumbers.NumberParseException:
        return False


# --- names ---------------------------------------------------------------------------------------------
_POSSESSIVE = re.compile(r"['’]s\Z")


@lru_cache(maxsize=1)
def first_names() -> frozenset[str]:
    """Given names from the US census lists that the `names` package ships (MIT); empty if it is missing."""
    try:
        pkg = resources.files("names")
        lists = [(pkg / f).read_text(encoding="ascii") for f in ("dist.male.first", "dist.female.first")]
    except Exception:  # optional: without it, names rest on cue words and capitals alone
        return frozenset()
    return frozenset(w.lower() for f in lists for w in re.findall(r"^[A-Z]+", f, re.M)) - COMMON_WORDS


def find_names(text: str, low: str, firsts: frozenset[str]) -> list[tuple[int, int]]:
    """Names after cue words, in a dash signature on the last line, and known first name + capitalised word."""
    out: list[tuple[int, int]] = []
    starts = [(m.end(), mode) for cues, mode in NAME_CUES for m in cues.finditer(low)]
    sig = DASH_SIGNATURE.match(text, text.rstrip().rfind("\n") + 1)
    starts += [(sig.end(), "signature")] if sig else []
    for m in NAME_TOKEN.finditer(text):
        tok = m.group()
        if (
            tok[0].isupper()
            and tok.lower() in firsts
            and (m.start() == 0 or not text[m.start() - 1].isalnum())
        ):
            starts.append((m.start(), "pair"))
    for pos, mode in starts:
        span = take_name(text, pos, mode, firsts)
        if span and (mode != "signature" or not text[span[1] :].strip(" \t\r\n.!")):
            out.append(span)
    return out


def take_name(text: str, pos: int, mode: str, firsts: frozenset[str]) -> tuple[int, int] | None:
    """The name at `pos`: up to four name tokens joined by single spaces, judged by `mode`; or None."""
    tokens: list[tuple[int, int]] = []
    after_particle = False
    while len(tokens) < MAX_NAME_TOKENS:
        m = NAME_TOKEN.match(text, pos)
        if m is None:
            break
        tok = _POSSESSIVE.sub("", m.group())
        if tokens and tok.lower() in NAME_PARTICLES and not after_particle:
            after_particle = True
        elif (after_particle and tok[0].isupper()) or name_ok(tok, mode, firsts, tokens, text):
            after_particle = False
        else:
            break
        tokens.append((m.start(), m.start() + len(tok)))
        if text[m.end() : m.end() + 1] != " " or tok != m.group():
            break
        pos = m.end() + 1
    while tokens and text[tokens[-1][0] : tokens[-1][1]].lower() in NAME_PARTICLES:
        tokens.pop()
    if not tokens or (mode == "pair" and len(tokens) < 2):
        return None
    end = tokens[-1][1]
    nxt = NAME_TOKEN.match(text, end + 1) if text[end : end + 1] == " " else None
    if mode == "pair" and nxt and nxt.group()[0].isupper() and nxt.group().lower() in COMMON_WORDS:
        return None  # "High Yield Savings", "Western Union Bank": a product or a business
    return tokens[0][0], end


def name_ok(tok: str, mode: str, firsts: frozenset[str], tokens: list[tuple[int, int]], text: str) -> bool:
    low = tok.lower()
    if low in COMMON_WORDS or len(tok) < 2 or (tok.isupper() and len(tok) < 3):
        return False
    capital, known = tok[0].isupper(), low in firsts
    # "I'm Worried", "This is Frustrating": only a first token is suspected of being an ordinary word.
    looks_like_word = (
        not tokens and not known and low.endswith(("ed", "ing", "ful", "ous", "ive", "able", "ness"))
    )
    if mode == "strong":  # lower case too, if the name began in lower case
        return capital or ((not tokens or not text[tokens[0][0]].isupper()) and not looks_like_word)
    if not tokens and mode == "medium":
        return capital or known
    return capital and not looks_like_word
