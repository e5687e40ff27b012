"""The detector: each kind of canary found with its kind, look-alikes left alone."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from detect_secrets.plugins import keyword
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.errors import ConfigError
from graph.secrets import PLACEHOLDER, SecretScanner, fingerprint, load_config
from graph.secrets.detect import Finding, Pattern
from graph.secrets.rules import _spelled_out, builtin_rules
from tests.secret_canaries import (
    ANTHROPIC,
    ASSIGNED,
    AWS,
    GITHUB,
    GITHUB_FINE,
    GITLAB,
    JWT,
    KEY_BLOCK,
    OPENAI,
    PASSWORD_IN_URL,
    SLACK,
    STRIPE,
)

CANARIES = [
    ("aws-access-key", f"export AWS_ACCESS_KEY_ID={AWS}", AWS),
    ("github-token", f"git remote set-url origin {GITHUB} now", GITHUB),
    ("github-token", f"token: {GITHUB_FINE}", GITHUB_FINE),
    ("gitlab-token", f"GITLAB_TOKEN {GITLAB}", GITLAB),
    ("slack-token", f"slack {SLACK} posted", SLACK),
    ("stripe-key", f"Stripe.api_key = {STRIPE}", STRIPE),
    ("anthropic-key", f"ANTHROPIC_API_KEY={ANTHROPIC}", ANTHROPIC),
    ("openai-key", f"client = OpenAI({OPENAI!r})", OPENAI),
    ("jwt", f"Authorization: Bearer {JWT}", JWT),
    ("private-key", f"cat ~/.ssh/id_ed25519\n{KEY_BLOCK}\n$ ", KEY_BLOCK),
    ("basic-auth", f"psql postgres://admin:{PASSWORD_IN_URL}@db.example.com/app", PASSWORD_IN_URL),
    ("secret-assignment", f"SECRET_KEY_BASE={ASSIGNED}\nDEBUG=1", ASSIGNED),
]

LOOK_ALIKES = [
    "password = getpass.getpass()",
    "api_key: ${API_KEY}",
    'secret = os.environ["SECRET"]',
    "the password is stored in the keyring",
    "AKIA is the prefix of AWS access keys",
    "ghp_ tokens are classic GitHub tokens",
    "https://example.com/path?user=me",
    "postgres://user:$PASSWORD@host/db",
    "commit 9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c",
    "uuid 123e4567-e89b-12d3-a456-426614174000",
    "eyJhbGciOi is how a JWT starts",
    "api_key = 'abcdefghijklmnop'",
    "sk-ant-api03-short",
    "[REDACTED:github-token:0badc0de] stays as it is",
]


@pytest.mark.parametrize(("kind", "text", "value"), CANARIES, ids=[c[0] for c in CANARIES])
def test_each_kind_is_found_with_its_span(kind: str, text: str, value: str) -> None:
    findings = SecretScanner().scan(text)
    assert [(f.kind, text[f.start : f.end]) for f in findings] == [(kind, value)]
    assert findings[0].fingerprint == fingerprint(value)


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_look_alikes_are_not_secrets(text: str) -> None:
    assert SecretScanner().scan(text) == []


def test_mask_replaces_every_value_and_keeps_the_rest() -> None:
    text = "\n".join(c[1] for c in CANARIES)
    masked = SecretScanner().mask(text)
    for _, _, value in CANARIES:
        assert value not in masked
    assert "export AWS_ACCESS_KEY_ID=[REDACTED:aws-access-key:" in masked
    assert len(PLACEHOLDER.findall(masked)) == len(CANARIES)
    # Masking is idempotent: a placeholder is never found again.
    assert SecretScanner().mask(masked) == masked


def test_a_secret_in_a_huge_text_is_found_without_scanning_it_all_with_every_rule() -> None:
    text = ("lorem ipsum dolor sit amet " * 40_000) + f"password={ASSIGNED}"
    (finding,) = SecretScanner().scan(text)
    assert text[finding.start : finding.end] == ASSIGNED


def test_user_patterns_and_allow_lists(tmp_path: Path) -> None:
    config = tmp_path / "secrets.toml"
    config.write_text(
        "[secrets]\n"
        f'allow = ["{AWS}"]\n'
        'allow_patterns = ["^glpat-xZ1"]\n'
        "redact_on_import = true\n"
        "[[secrets.patterns]]\n"
        'name = "acme-token"\n'
        'regex = "acme_([A-Za-z0-9]{24})"\n'
        "group = 1\n",
        encoding="utf-8",
    )
    settings = load_config(config)
    assert settings.redact_on_import
    scanner = settings.scanner()
    token = "acme_" + "Q" * 12 + "r" * 12
    found = scanner.scan(f"{AWS} {GITLAB} {token}")
    assert [(f.kind, f.end - f.start) for f in found] == [("custom:acme-token", 24)]
    assert "custom:acme-token" in scanner.kinds


@pytest.mark.parametrize(
    "body",
    [
        "[secrets\n",
        "[secrets]\nallow = 3\n",
        '[secrets]\nallow_patterns = ["("]\n',
        '[[secrets.patterns]]\nname = "Bad Name"\nregex = "x"\n',
        '[[secrets.patterns]]\nname = "ok"\nregex = "x"\ngroup = 2\n',
    ],
)
def test_a_wrong_config_is_one_clear_error(tmp_path: Path, body: str) -> None:
    config = tmp_path / "secrets.toml"
    config.write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"secrets\.toml"):
        load_config(config)


def test_no_config_file_is_the_defaults(tmp_path: Path) -> None:
    assert load_config(tmp_path / "missing.toml").scanner().scan(f"k {GITHUB}")


def test_pattern_names_are_prefixed_once() -> None:
    scanner = SecretScanner(patterns=[Pattern("custom:x", "zz[0-9]{8}")])
    assert scanner.scan("zz12345678")[0].kind == "custom:x"


# could_contain: one Aho-Corasick pass over the anchors, one over the keyword rule's stems


def _could_contain_by_search(scanner: SecretScanner, text: str) -> bool:
    """The test as it was: a substring test per anchor, then the keyword expression
    (except that a text lower() lengthens, searched ignoring case, now always could)."""
    if any(anchor in text for anchor in scanner._anchor_list):
        return True
    if len(text.lower()) != len(text):
        return True
    return any(
        rule.locate is not None and rule.locate.search(text.lower()) for rule in scanner._always
    )


_BITS = ("api", "_key", "KEY", "Pass", "ñ", "Ñ", "word", " ", "\n", "_", "contrase", "é", "İ")
_PIECES = st.sampled_from([*SecretScanner()._anchor_list, *keyword.DENYLIST, *_BITS])


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES | st.text(max_size=6), max_size=12).map("".join))
def test_could_contain_is_the_substring_and_keyword_search(text: str) -> None:
    scanner = SecretScanner()
    assert scanner.could_contain(text) is _could_contain_by_search(scanner, text)


@pytest.mark.parametrize("text", [c[1] for c in CANARIES] + LOOK_ALIKES)
def test_could_contain_agrees_on_every_canary_and_look_alike(text: str) -> None:
    scanner = SecretScanner()
    assert scanner.could_contain(text) is _could_contain_by_search(scanner, text)


def test_the_keyword_rule_is_spelled_out_exactly() -> None:
    (rule,) = [r for r in builtin_rules() if r.kind == "secret-assignment"]
    assert rule.locate is not None and rule.stems
    assert all(rule.locate.fullmatch(stem) for stem in rule.stems)
    assert {"api_key", "apikey", "password", "contraseña"} <= set(rule.stems)
    # Anything but words joined by optional underscores is left to the expression.
    assert _spelled_out(["pass(word)?"]) == ()


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=8).map("".join))
def test_a_text_holds_a_stem_exactly_when_the_keyword_expression_matches(text: str) -> None:
    (rule,) = [r for r in builtin_rules() if r.kind == "secret-assignment"]
    assert rule.locate is not None
    assert any(stem in text for stem in rule.stems) is (rule.locate.search(text) is not None)


def test_a_scanner_with_a_users_pattern_always_could() -> None:
    scanner = SecretScanner(patterns=[Pattern("mine", r"zz\d+")])
    assert scanner.could_contain("nothing here")


@pytest.mark.parametrize(("kind", "text", "value"), CANARIES, ids=[c[0] for c in CANARIES])
def test_could_contain_json_sees_every_canary_however_its_json_is_spelled(
    kind: str, text: str, value: str
) -> None:
    scanner = SecretScanner()
    record = {"message": {"content": f"contraseña: {text}"}}
    for raw in (
        orjson.dumps(record),
        json.dumps(record).encode(),  # non-ASCII escaped
        json.dumps(record).replace("/", "\\/").encode(),
    ):
        assert scanner.could_contain_json(raw), raw


@pytest.mark.parametrize(
    "keyword_text", ["contraseña = 'Xk9mQ2vLp7zR4wT8'", "CONTRASEÑA = 'Xk9mQ2vLp7zR4wT8'"]
)
def test_a_keyword_beyond_ascii_is_seen_in_json_written_either_way(keyword_text: str) -> None:
    scanner = SecretScanner()
    assert scanner.scan(keyword_text)
    for raw in (orjson.dumps([keyword_text]), json.dumps([keyword_text]).encode()):
        assert scanner.could_contain_json(raw)


def test_could_contain_json_passes_clean_json_with_control_escapes() -> None:
    # A terminal's colours are escaped control characters: no reason to look closer.
    raw = json.dumps({"content": "\x1b[32mok\x1b[0m all 12 tests passed"}).encode()
    assert b"\\u001b" in raw
    assert not SecretScanner().could_contain_json(raw)


def _scan_without_skipping(text: str) -> list[Finding]:
    scanner = SecretScanner()
    object.__setattr__(scanner, "_stems", None)  # every anchorless rule runs its windows
    return scanner.scan(text)


@pytest.mark.parametrize(
    "text",
    [c[1] for c in CANARIES] + LOOK_ALIKES + ["PRİVATE_KEY = 'Xk9mQ2vLp7zR4wT8' \u0131"],
)
def test_scan_finds_the_same_when_stems_skip_the_keyword_rule(text: str) -> None:
    assert SecretScanner().scan(text) == _scan_without_skipping(text)


@settings(max_examples=200, deadline=None)
@given(st.lists(_PIECES | st.just(" = 'Xk9mQ2vLp7zR4wT8'\n"), max_size=10).map("".join))
def test_scan_finds_the_same_when_stems_skip_the_keyword_rule_anywhere(text: str) -> None:
    assert SecretScanner().scan(text) == _scan_without_skipping(text)


@pytest.mark.parametrize(("kind", "text", "value"), CANARIES)
@pytest.mark.parametrize("levels", [1, 2, 3])
def test_a_secret_in_json_written_into_strings_is_masked_where_it_is_written(
    kind: str, text: str, value: str, levels: int
) -> None:
    # JSON in a string, as deep as ``levels``, quotes escaped around the value and its
    # first character spelled as an escape (\u0041KIA...).
    said = f"{text} 'quoted' \"x\""
    as_json = json.dumps(value)[1:-1]
    written = json.dumps({"command": said})
    written = written.replace(as_json, f"\\u{ord(value[0]):04x}{as_json[1:]}")
    for _ in range(levels - 1):
        written = json.dumps({"output": written})
    scanner = SecretScanner()
    (found,) = scanner.scan(written)
    assert (found.kind, found.fingerprint) == (kind, fingerprint(value))
    masked = scanner.mask(written)
    assert scanner.could_contain(written) and as_json[1:] not in masked
    for _ in range(levels - 1):
        masked = json.loads(masked)["output"]
    placeholder = f"[REDACTED:{kind}:{found.fingerprint}]"
    assert json.loads(masked) == {"command": said.replace(value, placeholder)}


@pytest.mark.parametrize(
    ("key", "value", "masked"),
    [
        ("password", "Qz8vLm2xPw9rTk4n", "[REDACTED:secret-assignment:{}]"),
        ("DB_PASSWORD", "Qz8vLm2xPw9rTk4n # prod", "[REDACTED:secret-assignment:{}] # prod"),
        ("client_secret", "Qz8vLm2xPw9rTk4n", "[REDACTED:secret-assignment:{}]"),
        ("password", "${DB_PASSWORD}", None),  # a template
        ("password", "changeme", None),  # not random enough
        ("password", "correct horse battery staple", None),  # its first word is no key
        ("password-url", "Qz8vLm2xPw9rTk4n", None),  # not the keyword's \w* to the end
        ("user", "Qz8vLm2xPw9rTk4n", None),
        ("password", "Qz8vLm2xPw9rAAAA", None),  # allowed
    ],
)
def test_a_value_its_key_names_a_credential_is_one(
    key: str, value: str, masked: str | None
) -> None:
    scanner = SecretScanner(allow=frozenset({"Qz8vLm2xPw9rAAAA"}))
    expected = value if masked is None else masked.format(fingerprint("Qz8vLm2xPw9rTk4n"))
    assert scanner.mask_json({"a": [{key: value}]}) == {"a": [{key: expected}]}
    # Only as an object member: the same string in a list, or alone, is a text.
    assert scanner.mask_json([value]) == [value]
    again = scanner.mask_json({key: expected})
    assert again == {key: expected}  # a placeholder is not found again
    blanked, found = scanner.blank_keyed({key: value})
    assert (blanked == {key: value}) == (masked is None) and len(found) == (masked is not None)
