"""The rules: detect-secrets' plugins (their maintained patterns and false-positive
heuristics) as :class:`Rule` values, plus the provider formats detect-secrets does not
know yet, and the keyword-assignment rule with its credential test."""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import Final

__all__ = ["PLACEHOLDER", "Rule", "builtin_rules", "keyed_value", "rule_parameters"]

PLACEHOLDER: Final = re.compile(r"\[REDACTED:([a-z0-9:-]+):([0-9a-f]{8})\]")
_MIN_KEYWORD_VALUE: Final = 8
_MIN_KEYWORD_ENTROPY: Final = 3.0
# A keyword assignment is looked for on the keyword's line, this far around it.
_WINDOW_BEFORE: Final = 80
_WINDOW_AFTER: Final = 400


def rule_parameters() -> str:
    """The numbers the rules are tuned with (part of what a scanner's digest names)."""
    return f"{_MIN_KEYWORD_ENTROPY}/{_MIN_KEYWORD_VALUE}/{_WINDOW_BEFORE}/{_WINDOW_AFTER}"


@dataclass(frozen=True, slots=True)
class Rule:
    """Regular expressions that find one kind of secret, and when to bother running them.

    Attributes:
        kind: The kind reported for a match.
        patterns: Each with the group that holds the secret (0: the whole match).
        anchors: Substrings one of which any match contains; a rule with none runs on
            every text (through ``locate`` when it has one).
        accept: A last check of a candidate value (a JWT must decode, say).
        trim: Narrows a match to the secret before ``accept`` sees it.
        extend: Widens a match to the whole secret (a private key's block, say).
        locate: Where in the lower-cased text an anchorless rule's patterns can match.
        stems: Every string ``locate`` matches, spelled out (none: it matches more than
            a few strings): a text holds a match exactly when it holds one of them.
    """

    kind: str
    patterns: tuple[tuple[re.Pattern[str], int], ...]
    anchors: tuple[str, ...] = ()
    accept: Callable[[str], bool] | None = None
    trim: Callable[[str, int, int], tuple[int, int]] | None = None
    extend: Callable[[str, int, int], tuple[int, int]] | None = None
    locate: re.Pattern[str] | None = None
    stems: tuple[str, ...] = ()

    def windows(self, text: str) -> list[tuple[int, int]]:
        """Where to run the patterns: the whole text, or the lines ``locate`` finds
        (clipped), so that a costly pattern never runs over megabytes of output."""
        if self.locate is None:
            return [(0, len(text))]
        # Lower-cased once, the stems are found by a case-sensitive search, several times
        # faster than re.IGNORECASE; the rare text whose length lower() changes is not.
        lowered = text.lower()
        found = (
            self.locate.finditer(lowered)
            if len(lowered) == len(text)
            else re.finditer(self.locate.pattern, text, re.IGNORECASE)
        )
        windows: list[tuple[int, int]] = []
        last = -1
        for match in found:
            if match.start() < last:
                continue
            line_start = text.rfind("\n", 0, match.start()) + 1
            line_end = text.find("\n", match.end())
            start = max(line_start, match.start() - _WINDOW_BEFORE)
            end = min(len(text) if line_end < 0 else line_end, match.end() + _WINDOW_AFTER)
            last = end
            windows.append((start, end))
        return windows


def _entropy(value: str) -> float:
    counts = Counter(value)
    length = len(value)
    return -sum(n / length * math.log2(n / length) for n in counts.values())


def _heuristic() -> ModuleType:
    # detect-secrets loads slowly (its package imports its whole scanner): it is loaded
    # when the first scanner is built, not by every command that imports this module.
    from detect_secrets.filters import heuristic

    return heuristic


def _credential_like(value: str) -> bool:
    """A keyword assignment's value that is a credential, not code or prose."""
    heuristic = _heuristic()
    return (
        len(value) >= _MIN_KEYWORD_VALUE
        and not PLACEHOLDER.fullmatch(value)
        and not heuristic.is_templated_secret(value)
        and not heuristic.is_prefixed_with_dollar_sign(value)
        and not heuristic.is_sequential_string(value)
        and not heuristic.is_potential_uuid(value)
        and not heuristic.is_not_alphanumeric_string(value)
        and _entropy(value) >= _MIN_KEYWORD_ENTROPY
    )


_KEY_END = re.compile(r"-----END [A-Z ]*PRIVATE KEY( BLOCK)?-----")
_KEY_START = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY( BLOCK)?-----")


def _key_block(text: str, start: int, end: int) -> tuple[int, int]:
    """From a ``BEGIN ... PRIVATE KEY`` header to its END line (or the text's end)."""
    header = _KEY_START.search(text, max(0, start - 20), end + 20)
    if header is not None:
        start = header.start()
    footer = _KEY_END.search(text, end)
    return start, footer.end() if footer is not None else len(text)


_FIRST_WORD = re.compile(r"[^\s'\"`,;()\[\]{}]+")


def _first_word(text: str, start: int, end: int) -> tuple[int, int]:
    """detect-secrets' keyword values run to the end of a file line (its ``\\v`` does not
    stop at a newline, which a file scanner never sees): a value is its first word."""
    word = _FIRST_WORD.match(text, start, end)
    if word is None or text[word.end() : word.end() + 1] in ("(", "["):
        return start, start  # a call or a subscript: code that fetches the secret
    return start, word.end()


@functools.cache
def _credential_key() -> re.Pattern[str]:
    """A JSON object key that names a credential: one of detect-secrets' keywords, then
    word characters to its end (what its ``password\\w*":`` patterns read in a text)."""
    from detect_secrets.plugins import keyword

    return re.compile(f"(?:{'|'.join(keyword.DENYLIST)})\\w*$")


@functools.lru_cache(maxsize=4096)
def _names_a_credential(key: str) -> bool:
    # Records repeat the same few keys: each is searched once.
    return _credential_key().search(key.lower()) is not None


def keyed_value(key: str, value: str) -> tuple[int, int] | None:
    """The span in ``value`` of the credential a JSON string holds by its key's name
    (``{"password": "..."}``), or None. The keyword rule's reading of a value, applied
    to a key and its value, which it only sees one at a time: its first word, when that
    looks like a credential."""
    if len(value) < _MIN_KEYWORD_VALUE or not _names_a_credential(key):
        return None
    start, end = _first_word(value, 0, len(value))
    return (start, end) if end > start and _credential_like(value[start:end]) else None


_JWT_TAIL = re.compile(r"[A-Za-z0-9_=+/.-]*")


def _whole_jwt(text: str, start: int, end: int) -> tuple[int, int]:
    """detect-secrets' JWT pattern stops lazily before the signature: take all of it."""
    tail = _JWT_TAIL.match(text, end)
    return start, tail.end() if tail is not None else end


# A word, or words each of which may follow the one before with or without an underscore
# (detect-secrets' keywords: ``api_?key``).
_OPTIONAL_UNDERSCORES: Final = re.compile(r"[^\W_]+(?:_\?[^\W_]+)*")


def _spelled_out(alternatives: Iterable[str]) -> tuple[str, ...]:
    """Every string the alternation of ``alternatives`` matches, when they are all words
    joined by optional underscores; else none (the alternation is searched instead)."""
    spelled: list[str] = []
    for alternative in alternatives:
        if not _OPTIONAL_UNDERSCORES.fullmatch(alternative):
            return ()
        words = alternative.split("_?")
        for joints in itertools.product(("", "_"), repeat=len(words) - 1):
            spelled.append(
                words[0] + "".join(j + w for j, w in zip(joints, words[1:], strict=True))
            )
    return tuple(spelled)


def _compiled(
    patterns: Iterable[re.Pattern[str]], secret_group: int = 0
) -> tuple[tuple[re.Pattern[str], int], ...]:
    """detect-secrets' patterns, each with the group holding the secret where it has it
    (a URL's password, not the URL)."""
    return tuple((p, secret_group if p.groups >= secret_group else 0) for p in patterns)


def builtin_rules() -> list[Rule]:
    from detect_secrets.plugins import (
        aws,
        azure_storage_key,
        basic_auth,
        github_token,
        gitlab_token,
        jwt,
        keyword,
        npm,
        openai,
        private_key,
        pypi_token,
        sendgrid,
        slack,
        square_oauth,
        stripe,
    )

    heuristic = _heuristic()
    keyword_patterns = {
        **keyword.CONFIG_DENYLIST_REGEX_TO_GROUP,
        **keyword.QUOTES_REQUIRED_DENYLIST_REGEX_TO_GROUP,
    }
    return [
        Rule(
            "private-key",
            _compiled(private_key.PrivateKeyDetector.denylist),
            anchors=("PRIVATE KEY", "PuTTY-User-Key-File"),
            extend=_key_block,
        ),
        Rule(
            "aws-access-key",
            _compiled(aws.AWSKeyDetector.denylist, 1),
            anchors=("A3T", "ABIA", "ACCA", "AKIA", "ASIA", "aws", "AWS"),
        ),
        Rule(
            "github-token",
            (
                *_compiled(github_token.GitHubTokenDetector.denylist),
                (re.compile(r"github_pat_[A-Za-z0-9_]{22,}"), 0),
            ),
            anchors=("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
        ),
        Rule(
            "gitlab-token",
            _compiled(gitlab_token.GitLabTokenDetector.denylist),
            anchors=(
                "glpat-",
                "gldt-",
                "glft-",
                "glsoat-",
                "glrt-",
                "glcbt-",
                "glimt-",
                "glptt-",
                "glagent-",
                "gloas-",
                "GR1348941",
            ),
        ),
        Rule(
            "slack-token",
            _compiled(slack.SlackDetector.denylist),
            anchors=("xox", "XOX", "hooks.slack.com"),
        ),
        Rule("stripe-key", _compiled(stripe.StripeDetector.denylist), anchors=("k_live_",)),
        Rule(
            "anthropic-key",
            ((re.compile(r"sk-ant-[a-z]{3,8}\d{2}-[A-Za-z0-9_-]{32,}"), 0),),
            anchors=("sk-ant-",),
        ),
        Rule(
            "openai-key",
            (
                *_compiled(openai.OpenAIDetector.denylist),
                (re.compile(r"sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,}"), 0),
            ),
            anchors=("T3BlbkFJ", "sk-proj-", "sk-svcacct-", "sk-admin-"),
        ),
        Rule(
            "jwt",
            _compiled(jwt.JwtTokenDetector.denylist),
            anchors=("eyJ",),
            accept=jwt.JwtTokenDetector.is_formally_valid,
            extend=_whole_jwt,
        ),
        Rule(
            "basic-auth",
            _compiled(basic_auth.BasicAuthDetector.denylist, 1),
            anchors=("://",),
            accept=lambda value: (
                not heuristic.is_templated_secret(value)
                and not value.startswith("$")
                and value.lower() not in {"password", "pass", "passwd", "secret", "x-oauth-basic"}
            ),
        ),
        Rule("npm-token", _compiled(npm.NpmDetector.denylist, 1), anchors=("_authToken",)),
        Rule("pypi-token", _compiled(pypi_token.PypiTokenDetector.denylist), anchors=("pypi-",)),
        Rule("sendgrid-key", _compiled(sendgrid.SendGridDetector.denylist), anchors=("SG.",)),
        Rule(
            "azure-storage-key",
            _compiled(azure_storage_key.AzureStorageKeyDetector.denylist),
            anchors=("AccountKey=",),
        ),
        Rule(
            "square-oauth",
            _compiled(square_oauth.SquareOAuthDetector.denylist),
            anchors=("sq0csp-",),
        ),
        Rule(
            "secret-assignment",
            tuple(keyword_patterns.items()),
            # Every pattern holds one of detect-secrets' keywords (api_?key, password,
            # secret...): the lines that hold none are never searched. (Their stems alone,
            # "key" or "pass", sent every "monkey" and test runner's "PASS" through the
            # expressions, most of the import's scanning time.)
            locate=re.compile("|".join(keyword.DENYLIST)),
            stems=_spelled_out(keyword.DENYLIST),
            trim=_first_word,
            accept=_credential_like,
        ),
    ]
