"""PII detection and masking (`bot.guards.pii`): each kind, what must stay unmasked (money, dates, the bank's
own numbers, every line of the documents), masking properties (placeholders, idempotence, never raising),
speed on long and adversarial input, and the evaluation set against the targets in `bot.guards.pii_eval`."""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Collection
from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest

from bot.guards import pii
from bot.guards.pii import PII_KINDS, MaskResult, PiiSpan, contact_allowlist, find_pii, mask_pii
from bot.guards.pii_eval import BENIGN_FP_MAX, DEFAULT_PATH, RECALL_TARGETS, evaluate, gold_spans, load, main

ROOT = Path(__file__).resolve().parents[3]
DOCS = sorted((ROOT / "knowledge" / "docs").glob("*.md"))
DOCS_TEXT = "\n".join(p.read_text(encoding="utf-8") for p in DOCS)
# Found with plain regexes, independently of the detector under test.
DOC_PHONES = frozenset(re.findall(r"(?:\+?1-)?(?:\(\d{3}\) |\d{3}-)\d{3}-\d{4}", DOCS_TEXT))
DOC_EMAILS = frozenset(re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", DOCS_TEXT))


def kinds(text: str, allow: Collection[str] = ()) -> list[tuple[str, str]]:
    return [(s.kind, s.text) for s in find_pii(text, allow=allow)]


def test_api_types() -> None:
    assert PII_KINDS == ("CARD", "IBAN", "ACCOUNT", "SSN", "PHONE", "EMAIL", "NAME")
    r = mask_pii("card 4111 1111 1111 1111, call (503) 555-0142 or (503) 555-0143")
    assert isinstance(r, MaskResult) and r.found
    assert r.text == "card [CARD], call [PHONE] or [PHONE]"
    assert r.counts == {"CARD": 1, "PHONE": 2}
    assert all(isinstance(s, PiiSpan) for s in r.spans) and isinstance(r.spans, tuple)
    with pytest.raises(FrozenInstanceError):
        r.spans[0].kind = "X"  # type: ignore[misc]
    empty = mask_pii("hello")
    assert not empty.found and empty.counts == {} and empty.text == "hello"


@pytest.mark.parametrize(
    "text, card",
    [
        ("my card 4111 1111 1111 1111 was stolen", "4111 1111 1111 1111"),
        ("card no 4111-1111-1111-1111.", "4111-1111-1111-1111"),
        ("cc:5555555555554444exp", "5555555555554444"),
        ("amex 3782 822463 10005 please", "3782 822463 10005"),
        ("card 4242  4242  4242  4242 (double spaces)", "4242  4242  4242  4242"),
        ("split: 4111 1111\n1111 1111 sorry", "4111 1111\n1111 1111"),
        ("dots 4111.1111.1111.1111", "4111.1111.1111.1111"),
        ("card 4111 1111 1111 1111 2027", "4111 1111 1111 1111"),
    ],
)
def test_cards(text: str, card: str) -> None:
    assert kinds(text) == [("CARD", card)]


def test_card_like_numbers_that_fail_luhn() -> None:
    assert kinds("my order number is 4111-1111-1111-1112") == []
    assert kinds("my account 4111 1111 1111 1112 is joint") == [("ACCOUNT", "4111 1111 1111 1112")]


@pytest.mark.parametrize(
    "iban",
    [
        "GB82 WEST 1234 5698 7654 32",
        "GB82WEST12345698765432",
        "DE89370400440532013000",
        "DE89-3704-0044-0532-0130-00",
        "FR14 2004 1010 0505 0001 3M02 606",
        "fr76 3000 6000 0112 3456 7890 189",
        "NO93 8601 1117 947",
        "MT84 MALT 0110 0001 2345 MTLC AST0 01S",
    ],
)
def test_ibans(iban: str) -> None:
    assert kinds(f"please send it to {iban} by Friday") == [("IBAN", iban)]


def test_iban_with_a_wrong_check_digit_or_length_is_not_an_iban() -> None:
    assert kinds("send it to GB83 WEST 1234 5698 7654 32 now") == []
    assert kinds("code GB82 WEST 1234 5698 7654") == []


@pytest.mark.parametrize(
    "text, number",
    [
        ("my account number is 12345678 and", "12345678"),
        ("Acct #004411872290 - close it", "004411872290"),
        ("a/c 99887766 is overdrawn", "99887766"),
        ("account no. 4471-2290-18 is frozen", "4471-2290-18"),
        ("acount number 12398745 (typo)", "12398745"),
        ("savings 71234455 please", "71234455"),
        ("checking account 3344556677", "3344556677"),  # also a valid US phone number: the account wins
        ("routing 072555019 account 123456789", "123456789"),
        ("my checks say 072555019 5566778899 1043", "5566778899"),
        ("55667788 is my account number", "55667788"),
    ],
)
def test_account_numbers(text: str, number: str) -> None:
    assert kinds(text) == [("ACCOUNT", number)]


@pytest.mark.parametrize(
    "text",
    [
        "Our routing number is 072555019.",
        "routing number for all checking accounts is 072555019",
        "account balance 12345678",
        "order 88231190455 was charged to my account",
        "my account ending in 4821",
        "account opened 2025-10-14",
        "account fee $1,250.00 on 12/03/2025",
        "transfer 1234567.89 from savings",
        "reference number 1234567890",
    ],
)
def test_not_account_numbers(text: str) -> None:
    assert kinds(text) == []


@pytest.mark.parametrize(
    "text, ssn",
    [
        ("my ssn is 078-05-1120", "078-05-1120"),
        ("SSN: 536 22 1189", "536 22 1189"),
        ("ssn 412873309", "412873309"),
        ("my social security number is 233447891", "233447891"),
        ("590271145 is my SSN", "590271145"),
    ],
)
def test_ssns(text: str, ssn: str) -> None:
    assert kinds(text) == [("SSN", ssn)]


@pytest.mark.parametrize("text", ["ssn 000-12-3456", "ssn 666-12-3456", "ssn 912-34-5678", "id 123456789"])
def test_not_ssns(text: str) -> None:
    assert kinds(text) == []


@pytest.mark.parametrize(
    "phone",
    [
        "(503) 555-0142",
        "503-555-0178",
        "212.555.0187",
        "(555) 010-2368",
        "555.010.2368",
        "+44 20 7946 0958",
        "+44 (0)20 7946 0321",
        "+61 491 570 156",
        "+33 1 99 00 12 34",
        "1 (800) 555-0166",
        "+1-503-555-0123",
        "5035550146",
    ],
)
def test_phones(phone: str) -> None:
    assert kinds(f"call me on {phone} tomorrow") == [("PHONE", phone)]


def test_uk_national_number_needs_phone_context() -> None:
    assert kinds("my mobile 07700 900123") == [("PHONE", "07700 900123")]
    assert kinds("ticket 07700 900123") == []


def test_allow_list_exact_and_other_formats() -> None:
    allow = ["1-800-555-0199", "privacy@fernhollowbank.example"]
    text = "I called 1-800-555-0199, then 1 (800) 555-0199, then +1 800 555 0199"
    assert kinds(text, allow=allow) == []
    assert len(kinds(text)) == 3
    assert kinds("mail PRIVACY@fernhollowbank.example", allow=allow) == []
    assert kinds("mail me at me@example.com", allow=allow) == [("EMAIL", "me@example.com")]
    assert kinds("call 503-555-0142", allow=["1-800-555-0199"]) == [("PHONE", "503-555-0142")]


def test_allowed_span_does_not_expose_an_overlapping_lower_priority_one() -> None:
    assert kinds("it's worth saving +1-503-555-0199 in your phone", allow=["+1-503-555-0199"]) == []


@pytest.mark.parametrize(
    "email",
    [
        "jane.doe@example.com",
        "jdoe+bank@example.com",
        "ALEX.SMITH@EXAMPLE.NET",
        "m_r@mail.example.org",
        "o@x.example",
    ],
)
def test_emails(email: str) -> None:
    assert kinds(f"email {email}. thanks") == [("EMAIL", email)]


@pytest.mark.parametrize(
    "text, name",
    [
        ("Hi, my name is Sarah Johnson and I lost my card", "Sarah Johnson"),
        ("my name is john smith and i cant log in", "john smith"),
        ("I'm Tyrone Williams, I called yesterday", "Tyrone Williams"),
        ("this is Elena speaking", "Elena"),
        ("Name: Ahmed Hassan", "Ahmed Hassan"),
        ("Thanks, Megan", "Megan"),
        ("the account holder Jane Doe passed away", "Jane Doe"),
        ("my husband John wants access", "John"),
        ("I got a transfer from Kevin O'Brien", "Kevin O'Brien"),
        ("Kind regards,\nIngrid Larsen", "Ingrid Larsen"),
        ("Mrs Okafor was helpful", "Okafor"),
        ("Full name: María José García", "María José García"),
        ("my wife Ana's phone is off", "Ana"),
        ("Thanks Nguyen Van An", "Nguyen Van An"),
        ("ok\n-- Frank", "Frank"),
    ],
)
def test_names(text: str, name: str) -> None:
    assert kinds(text) == [("NAME", name)]


@pytest.mark.parametrize(
    "text",
    [
        "I'm worried about my account",
        "I'm Very Upset About The Fees",
        "I'm Hungry For Better Rates lol",
        "I'm Canadian",
        "My name is on the joint account",
        "my name is spelled wrong",
        "This is urgent, my card was stolen!",
        "Thanks, that worked.",
        "Thanks, Fernhollow!",
        "Dear Sir or Madam",
        "Hi team",
        "From Monday I will be abroad",
        "Transfer from Savings to Checking failed",
        "Overdraft transfers from High Yield Savings",
        "- Screen readers, including VoiceOver",
        "my husband and I want a joint account",
        "Send money to Western Union?",
    ],
)
def test_not_names(text: str) -> None:
    assert kinds(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "I transferred $4,111.11 to savings",
        "can i withdraw $1,800 from the atm",
        "the fee was $25.00 on 10/15/2025",
        "APR 21.49% and APY 3.75%",
        "open 9:00 am–5:00 pm, closed at 4:30",
        "my 1099-INT for 2024",
        "card ending 4242, last 4 are 1111",
        "Reference number: 2025-1103-8841",
        "tracking number 1Z999AA10123456784",
        "rate 1.1275 on €2.500,00",
        "PO Box 4400, Alder Falls, OR 97020",
        "1,250,000 points",
        "",
    ],
)
def test_benign_numbers(text: str) -> None:
    assert kinds(text) == []


def test_no_line_of_the_documents_is_masked() -> None:
    """The documents hold the bank's phone numbers (passed as `allow`, as the output guard does), its
    routing number, addresses, amounts, rates, dates and product names. Exception, by design: the bank's
    e-mail addresses are e-mail addresses and are masked unless allowed, so they go in `allow` too
    (`contact_allowlist(documents)` builds that list)."""
    assert DOC_PHONES and DOC_EMAILS
    allow = DOC_PHONES | DOC_EMAILS
    masked = [
        (p.name, s.kind, s.text)
        for p in DOCS
        for text in [*p.read_text(encoding="utf-8").splitlines(), p.read_text(encoding="utf-8")]
        for s in find_pii(text, allow=allow)
    ]
    assert masked == []
    phones_masked = {s.text for s in find_pii(DOCS_TEXT, allow=DOC_EMAILS)}
    assert phones_masked == DOC_PHONES  # without `allow`, the bank's numbers would be masked


def test_contact_allowlist_from_the_documents() -> None:
    allow = contact_allowlist([DOCS_TEXT])
    assert allow >= DOC_PHONES | DOC_EMAILS
    assert find_pii(DOCS_TEXT, allow=allow) == []


def eval_texts() -> list[str]:
    return [row["text"] for row in load()]


def test_masking_is_idempotent_and_spans_point_into_the_original() -> None:
    for text in eval_texts():
        r = mask_pii(text)
        assert all(text[s.start : s.end] == s.text for s in r.spans)
        assert mask_pii(r.text).text == r.text, text
        for placeholder in pii.PLACEHOLDERS.values():
            assert find_pii(f"my card {placeholder} and {placeholder}, thanks {placeholder}") == []


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "\x00\x01\x02\x1b[31m\x7f",
        "🙂💳 4111 1111 1111 1111 🙂",
        "Ж名前 is 李小龙, 电话 +86 138 0013 8000",
        "\ud800 lone surrogate 4242424242424242",
        "@" * 100,
        "+" * 50 + "1" * 50,
        "(((((((((((((((((((((((((((555",
        "my name is " * 50,
        "iban GB82",
        "a" * 100_000,
    ],
)
def test_never_raises(text: str) -> None:
    r = mask_pii(text)
    assert isinstance(r.text, str)
    assert mask_pii(r.text).text == r.text


def test_random_text_never_raises(caplog: pytest.LogCaptureFixture) -> None:
    rng = random.Random(7)
    alphabet = "0123456789  -+()@._/:,#\nabcXYZéß名🙂$%'’"
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 300)))
        r = mask_pii(text)
        assert mask_pii(r.text).text == r.text
    assert "PII detection failed" not in caplog.text


def test_fails_closed_when_a_detector_breaks(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(text: str) -> list:
        raise RuntimeError("bug")

    monkeypatch.setattr(pii, "_detect", boom)
    r = mask_pii("acct 12345678, mail a@b.example")
    assert "12345678" not in r.text and "a@b.example" not in r.text


ADVERSARIAL = {
    "letters": "a" * 100_000,
    "digits": "1" * 100_000,
    "digit-space": "1 " * 50_000,
    "digit-dash": "1-" * 50_000,
    "paren-digit": "(1" * 50_000,
    "plus-paren": "+1 (" * 25_000,
    "at-signs": "a@" * 50_000,
    "long-local-part": "a" * 50_000 + "@" + "b." * 25_000,
    "dots-then-at": "x." * 50_000 + "@",
    "iban-starts": "GB82 " * 20_000,
    "letter-digit": "ab12" * 25_000,
    "card-groups": "4111 " * 20_000,
    "name-cues": "My name is " * 9_000,
    "signoffs": "Thanks, Ann " * 8_000,
    "ssns": "ssn 078-05-1120 " * 6_200,
    "accounts": "account 12345678 " * 5_800,
}


@pytest.mark.parametrize("name", ADVERSARIAL)
def test_100kb_adversarial_input_is_fast(name: str) -> None:
    text = ADVERSARIAL[name]
    t0 = time.perf_counter()
    mask_pii(text)
    assert time.perf_counter() - t0 < 1.0  # about 0.05-0.3 s on a 2-core machine


def test_500_char_messages_are_fast() -> None:
    rng = random.Random(0)
    texts = eval_texts()
    messages = []
    for _ in range(100):
        s = ""
        while len(s) < 500:
            s += rng.choice(texts) + " "
        messages.append(s[:500])
    mask_pii(messages[0])
    t0 = time.perf_counter()
    for m in messages:
        mask_pii(m)
    mean_ms = 1000 * (time.perf_counter() - t0) / len(messages)
    assert mean_ms < 5.0  # target 2 ms; measured about 0.6 ms; loose here for slow, busy CI machines


def test_eval_set_shape() -> None:
    rows = load()
    assert len(rows) >= 350 and len({r["id"] for r in rows}) == len(rows)
    counts = dict.fromkeys(PII_KINDS, 0)
    for row in rows:
        assert row["benign"] == (not row["entities"])
        gold_spans(row)  # every entity text is in its message
        for ent in row["entities"]:
            counts[ent["kind"]] += 1
    assert min(counts.values()) >= 40, counts
    assert sum(r["benign"] for r in rows) >= 100


def test_evaluation_meets_targets() -> None:
    res = evaluate()
    for kind in PII_KINDS:
        assert res["per_kind"][kind]["recall"] >= RECALL_TARGETS[kind], (kind, res["per_kind"][kind])
    assert res["masked_at_all_recall"] >= RECALL_TARGETS["ANY"]
    assert res["benign_fp_rate"] <= BENIGN_FP_MAX


def test_eval_cli_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--json", "--path", str(DEFAULT_PATH)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out["per_kind"]) == set(PII_KINDS) and "benign_fp_rate" in out


def test_a_name_in_brackets_after_an_iban_or_account_number_is_masked() -> None:
    masked = mask_pii("Please send $900 to DE89 3704 0044 0532 0130 00 (Anna Keller) today").text
    assert masked == "Please send $900 to [IBAN] ([NAME]) today"
    assert mask_pii("the fee is 25 (Everyday Checking)").text == "the fee is 25 (Everyday Checking)"


def test_known_first_names_come_from_the_names_dependency() -> None:
    """`names` is a dependency: a census first name followed by a capitalised surname needs no cue word."""
    from bot.guards.pii_patterns import first_names

    assert len(first_names()) > 4000 and "maria" in first_names()
    assert mask_pii("Next of kin: Maria Lopez, 206-555-0142").text == "Next of kin: [NAME], [PHONE]"
    assert mask_pii("Please forward to Derek Olsen").text == "Please forward to [NAME]"
