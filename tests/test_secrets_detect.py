"""The detector: each kind of canary found with its kind, look-alikes left alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.errors import ConfigError
from graph.secrets import PLACEHOLDER, SecretScanner, fingerprint, load_config
from graph.secrets.detect import Pattern
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
