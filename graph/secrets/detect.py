"""Finding credentials in transcript text, with the spans to mask or redact them.

The rules are Yelp's detect-secrets plugins (their maintained regular expressions and
false-positive heuristics), run on whole texts rather than file lines, plus the few
provider formats it does not know yet (Anthropic keys, OpenAI project keys, GitHub
fine-grained tokens) and the user's own patterns. A scan first asks, with plain substring
tests, which rules could match at all: most texts of a transcript contain no credential,
and a substring test is far cheaper than a regular expression run over megabytes of
tool output.

Generic ``password = ...`` style assignments (detect-secrets' keyword rules) count only
when the value looks like a credential: long enough, not a template or a reference to
another variable, and random enough (Shannon entropy). Without that, every
``password = getpass()`` in a coding session would be a finding.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Final

__all__ = [
    "PLACEHOLDER",
    "Finding",
    "Pattern",
    "Rule",
    "SecretScanner",
    "fingerprint",
    "placeholder",
]

PLACEHOLDER: Final = re.compile(r"\[REDACTED:([a-z0-9:-]+):([0-9a-f]{8})\]")
_MIN_KEYWORD_VALUE: Final = 8
_MIN_KEYWORD_ENTROPY: Final = 3.0
# A keyword assignment is looked for on the keyword's line, this far around it.
_WINDOW_BEFORE: Final = 80
_WINDOW_AFTER: Final = 400


@dataclass(frozen=True, slots=True)
class Finding:
    """One secret value in a text.

    Attributes:
        kind: The rule that found it (``aws-access-key``, ``github-token``, ...).
        start: Offset of its first character in the text.
        end: Offset just past its last character.
        fingerprint: 8 hex digits identifying the value (never the value itself).
    """

    kind: str
    start: int
    end: int
    fingerprint: str


@dataclass(frozen=True, slots=True)
class Pattern:
    """A user's own rule: ``regex`` (its ``group``) is a secret of kind ``name``."""

    name: str
    regex: str
    group: int = 0


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
    """

    kind: str
    patterns: tuple[tuple[re.Pattern[str], int], ...]
    anchors: tuple[str, ...] = ()
    accept: Callable[[str], bool] | None = None
    trim: Callable[[str, int, int], tuple[int, int]] | None = None
    extend: Callable[[str, int, int], tuple[int, int]] | None = None
    locate: re.Pattern[str] | None = None

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


def fingerprint(value: str) -> str:
    """The first 8 hex digits of the value's SHA-256: tells values apart, never shows one."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def placeholder(kind: str, value: str) -> str:
    """What a redacted or masked value is replaced with."""
    return f"[REDACTED:{kind}:{fingerprint(value)}]"


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


_JWT_TAIL = re.compile(r"[A-Za-z0-9_=+/.-]*")


def _whole_jwt(text: str, start: int, end: int) -> tuple[int, int]:
    """detect-secrets' JWT pattern stops lazily before the signature: take all of it."""
    tail = _JWT_TAIL.match(text, end)
    return start, tail.end() if tail is not None else end


def _compiled(
    patterns: Iterable[re.Pattern[str]], secret_group: int = 0
) -> tuple[tuple[re.Pattern[str], int], ...]:
    """detect-secrets' patterns, each with the group holding the secret where it has it
    (a URL's password, not the URL)."""
    return tuple((p, secret_group if p.groups >= secret_group else 0) for p in patterns)


def _builtin_rules() -> list[Rule]:
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
            # detect-secrets' keywords all contain one of these (lower-case) stems.
            locate=re.compile("key|pass|pwd|secret|contrase"),
            trim=_first_word,
            accept=_credential_like,
        ),
    ]


@dataclass(slots=True)
class SecretScanner:
    """Finds secrets in texts; built once, used for every text of an import or a request.

    Attributes:
        patterns: The user's own rules, run after the built-in ones.
        allow: Values never reported (a test key in a README, say).
        allow_patterns: Regular expressions; a value any of them finds is never reported.
    """

    patterns: Sequence[Pattern] = ()
    allow: frozenset[str] = frozenset()
    allow_patterns: Sequence[str] = ()
    _rules: list[Rule] = field(init=False, repr=False)
    _allowed: list[re.Pattern[str]] = field(init=False, repr=False)
    _anchor_list: tuple[str, ...] = field(init=False, repr=False)
    _by_anchor: dict[str, list[Rule]] = field(init=False, repr=False)
    _always: list[Rule] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        own = [
            Rule(f"custom:{p.name}" if not p.name.startswith("custom:") else p.name,
                 ((re.compile(p.regex), p.group),))
            for p in self.patterns
        ]  # fmt: skip
        self._rules = [*_builtin_rules(), *own]
        self._always = [rule for rule in self._rules if not rule.anchors]
        self._by_anchor = {}
        for rule in self._rules:
            for anchor in rule.anchors:
                self._by_anchor.setdefault(anchor, []).append(rule)
        self._anchor_list = tuple(self._by_anchor)
        self._allowed = [re.compile(p) for p in self.allow_patterns]

    def __reduce__(self) -> tuple[Any, ...]:
        # The rules hold functions; what they are built from pickles.
        return (SecretScanner, (tuple(self.patterns), self.allow, tuple(self.allow_patterns)))

    @property
    def digest(self) -> str:
        """8 hex digits naming the rules: what a search index built with them records, so
        that other rules (a new pattern, an allowed value) rebuild it."""
        from importlib.metadata import version

        parts = [
            version("detect-secrets"),
            *(
                f"{rule.kind}\0{pattern.pattern}\0{group}"
                for rule in self._rules
                for pattern, group in rule.patterns
            ),
            *sorted(self.allow),
            *self.allow_patterns,
            f"{_MIN_KEYWORD_ENTROPY}/{_MIN_KEYWORD_VALUE}",
        ]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:8]

    def blank(self, text: str, findings: Sequence[Finding]) -> str:
        """``text`` with each secret replaced by one space: the words around it keep
        their places, and no token of the value remains."""
        pieces: list[str] = []
        at = 0
        for finding in findings:
            pieces.append(text[at : finding.start])
            pieces.append(" ")
            at = finding.end
        pieces.append(text[at:])
        return "".join(pieces)

    @property
    def kinds(self) -> list[str]:
        """Every kind this scanner can report."""
        return [rule.kind for rule in self._rules]

    def scan(self, text: str) -> list[Finding]:
        """The secrets in ``text``, in order, none overlapping (the earliest, then longest)."""
        if len(text) < _MIN_KEYWORD_VALUE:
            return []
        # Substring tests (C speed, several times faster than one alternation regex over
        # the same text), then only the rules whose anchor is there.
        by_anchor = self._by_anchor
        rules = {id(r): r for a in self._anchor_list if a in text for r in by_anchor[a]}
        spans: list[tuple[int, int, str]] = []
        for rule in (*rules.values(), *self._always):
            spans.extend(self._matches(rule, text))
        if not spans:
            return []
        spans.sort(key=lambda s: (s[0], -s[1]))
        findings: list[Finding] = []
        last_end = -1
        for start, end, kind in spans:
            if start < last_end:
                continue
            value = text[start:end]
            if PLACEHOLDER.search(value):
                continue  # already redacted: a placeholder is not a secret
            findings.append(Finding(kind, start, end, fingerprint(value)))
            last_end = end
        return findings

    def could_contain(self, text: str) -> bool:
        """False when no rule can match anywhere in ``text`` (a cheap test, no regex run):
        true of a JSON document's text exactly when it is true of one of its strings,
        since no anchor holds a character JSON escapes."""
        if any(anchor in text for anchor in self._anchor_list):
            return True
        located = [rule.locate for rule in self._always]
        if any(locate is None for locate in located):
            return True  # a user's pattern: no anchor to look for
        lowered = text.lower()
        return any(locate is not None and locate.search(lowered) for locate in located)

    def mask_json(self, value: Any) -> Any:
        """A JSON value with every string in it masked (a new value where one changed)."""
        if value.__class__ is str:
            return self.mask(value)
        if value.__class__ is dict:
            return {key: self.mask_json(item) for key, item in value.items()}
        if value.__class__ is list:
            return [self.mask_json(item) for item in value]
        return value

    def mask(self, text: str, findings: Sequence[Finding] | None = None) -> str:
        """``text`` with every secret replaced by its placeholder."""
        found = self.scan(text) if findings is None else findings
        if not found:
            return text
        pieces: list[str] = []
        at = 0
        for finding in found:
            pieces.append(text[at : finding.start])
            pieces.append(f"[REDACTED:{finding.kind}:{finding.fingerprint}]")
            at = finding.end
        pieces.append(text[at:])
        return "".join(pieces)

    def _matches(self, rule: Rule, text: str) -> Iterable[tuple[int, int, str]]:
        windows = rule.windows(text)
        for pattern, group in rule.patterns:
            for window_start, window_end in windows:
                for match in pattern.finditer(text, window_start, window_end):
                    span = self._secret(rule, text, *match.span(group))
                    if span is not None:
                        yield *span, rule.kind

    def _secret(self, rule: Rule, text: str, start: int, end: int) -> tuple[int, int] | None:
        """The span of the secret a match found, or None when it is not one."""
        if rule.trim is not None and start >= 0:
            start, end = rule.trim(text, start, end)
        if start < 0 or end <= start:
            return None
        if rule.accept is not None and not rule.accept(text[start:end]):
            return None
        if rule.extend is not None:
            start, end = rule.extend(text, start, end)
        value = text[start:end]
        if value in self.allow or any(p.search(value) for p in self._allowed):
            return None
        return start, end
