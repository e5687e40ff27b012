"""Finding credentials in transcript text, with the spans to mask or redact them.

The rules are Yelp's detect-secrets plugins (their maintained regular expressions and
false-positive heuristics), run on whole texts rather than file lines, plus the few
provider formats it does not know yet (Anthropic keys, OpenAI project keys, GitHub
fine-grained tokens) and the user's own patterns. A scan first asks which rules could
match at all, by the strings one of which every match of a rule holds (its anchors), all
found in one Aho-Corasick pass: most texts of a transcript contain no credential, and
that pass is far cheaper than a regular expression run over megabytes of tool output.

Generic ``password = ...`` style assignments (detect-secrets' keyword rules) count only
when the value looks like a credential: long enough, not a template or a reference to
another variable, and random enough (Shannon entropy). Without that, every
``password = getpass()`` in a coding session would be a finding. The same test applies
to a JSON string whose object key is such a keyword (``{"password": "..."}``): a scan
reads one string at a time, and would never see the key beside its value.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from ahocorasick_rs import AhoCorasick

from graph.secrets.escapes import unescaped
from graph.secrets.json_walk import map_strings, visit_strings
from graph.secrets.rules import PLACEHOLDER, Rule, builtin_rules, keyed_value, rule_parameters

# No rule finds a secret shorter than this: shorter texts are not scanned.
_SHORTEST: Final = 8
# A JSON escape that spells what a rule's anchor or stem may hold (a letter, a digit, a
# slash...), rather than a control character (``\u001b`` in a terminal's output): the
# text as written does not show the string's characters.
_SPELLING_ESCAPE: Final = re.compile(r"\\(?:u(?!00[01][0-9a-fA-F])[0-9a-fA-F]{4}|/)")
# A text's escapes are read this many times over (JSON in a string in a string...).
_ESCAPE_LEVELS: Final = 3
# Values up to this length are remembered by mask_short, this many of them (~2 MB at most).
_SHORT: Final = 512
_REMEMBERED: Final = 4096

__all__ = [
    "PLACEHOLDER",
    "Finding",
    "Pattern",
    "Rule",
    "SecretScanner",
    "fingerprint",
    "placeholder",
]


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


def fingerprint(value: str) -> str:
    """The first 8 hex digits of the value's SHA-256: tells values apart, never shows one."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def placeholder(kind: str, value: str) -> str:
    """What a redacted or masked value is replaced with."""
    return f"[REDACTED:{kind}:{fingerprint(value)}]"


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
    _anchors: AhoCorasick | None = field(init=False, repr=False)
    # The anchorless rules' stems (None: one of them has none, so it is searched).
    _stems: AhoCorasick | None = field(init=False, repr=False)
    _digest: str | None = field(init=False, repr=False, default=None)
    _remembered: Callable[[str], str] = field(init=False, repr=False)
    _key_findings: Callable[[str], list[Finding]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        own = [
            Rule(
                f"custom:{p.name}" if not p.name.startswith("custom:") else p.name,
                ((re.compile(p.regex), p.group),),
            )
            for p in self.patterns
        ]
        self._rules = [*builtin_rules(), *own]
        self._always = [rule for rule in self._rules if not rule.anchors]
        self._by_anchor = {}
        for rule in self._rules:
            for anchor in rule.anchors:
                self._by_anchor.setdefault(anchor, []).append(rule)
        self._anchor_list = tuple(self._by_anchor)
        self._anchors = AhoCorasick(list(self._anchor_list)) if self._anchor_list else None
        stems = [stem for rule in self._always for stem in rule.stems]
        spelled = all(rule.stems for rule in self._always)
        self._stems = AhoCorasick(stems) if spelled and stems else None
        self._allowed = [re.compile(p) for p in self.allow_patterns]
        self._remembered = functools.lru_cache(maxsize=_REMEMBERED)(self.mask)
        # Records repeat the same keys: each is scanned once.
        self._key_findings = functools.lru_cache(maxsize=_REMEMBERED)(self.scan)

    def __reduce__(self) -> tuple[Any, ...]:
        # The rules hold functions; what they are built from pickles.
        return (SecretScanner, (tuple(self.patterns), self.allow, tuple(self.allow_patterns)))

    @property
    def digest(self) -> str:
        """8 hex digits naming the rules: what a search index built with them, and a text
        masked with them, record, so that other rules (a new pattern, an allowed value)
        rebuild the one and mask the other again."""
        if self._digest is None:
            self._digest = self._compute_digest()
        return self._digest

    def _compute_digest(self) -> str:
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
            rule_parameters(),
            # How texts are read (a new reading masks stored texts again).
            "escapes",
            "keyed values",
            "keys",
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
        """The secrets in ``text``, in order, none overlapping (the earliest, then longest).

        Those its JSON escapes spell are found too (``\\"``, ``\\u0041``: JSON written
        into a string), with their spans in ``text`` as written and the fingerprint of
        the value they spell."""
        return self._scan(text, _ESCAPE_LEVELS)

    def _scan(self, text: str, levels: int) -> list[Finding]:
        found = self._scan_as_written(text)
        view = unescaped(text) if levels else None
        if view is None:
            return found
        spelled = self._scan(view.text, levels - 1)
        if not spelled:
            return found
        mapped = [
            Finding(f.kind, view.original(f.start), view.original(f.end), f.fingerprint)
            for f in spelled
        ]
        # Where both readings find the same span, the value it spells is the secret (a
        # URL's password read as written would keep its escapes).
        merged: list[Finding] = []
        last_end = -1
        for finding in sorted((*mapped, *found), key=lambda f: (f.start, -f.end)):
            if finding.start >= last_end:
                merged.append(finding)
                last_end = finding.end
        return merged

    def _scan_as_written(self, text: str) -> list[Finding]:
        if len(text) < _SHORTEST:
            return []
        # Only the rules whose anchor is there (every occurrence of every anchor is
        # found, so that no anchor inside another's match is missed).
        by_anchor, anchors = self._by_anchor, self._anchor_list
        rules = {id(r): r for a in self._present(text) for r in by_anchor[anchors[a]]}
        spans: list[tuple[int, int, str]] = []
        for rule in (*rules.values(), *self._anchorless(text)):
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
        """False when no rule can match anywhere in ``text`` (a cheap test, no regex run).

        For a JSON text, :meth:`could_contain_json`: this tells of the text, and of what
        its escapes spell, not of the strings a JSON text holds."""
        if self._could_contain(text):
            return True
        view = unescaped(text)
        return view is not None and self.could_contain(view.text)

    def _could_contain(self, text: str) -> bool:
        if self._anchors is not None and self._anchors.find_matches_as_indexes(text):
            return True
        if self._stems is not None:
            return self._stem_in(text, self._stems)
        if not self._always:
            return False
        located = [rule.locate for rule in self._always]
        if any(locate is None for locate in located):
            return True  # a user's pattern: no anchor to look for
        lowered = text.lower()
        return any(locate is not None and locate.search(lowered) for locate in located)

    def could_contain_json(self, raw: bytes) -> bool:
        r""":meth:`could_contain` for a JSON text as stored: False when no string in it can
        hold a secret. A text that spells a character with an escape (``\u00f1``,
        ``\/``) is always True: its strings are to be scanned one by one."""
        text = raw.decode("utf-8", "replace")
        return _SPELLING_ESCAPE.search(text) is not None or self.could_contain(text)

    def _anchorless(self, text: str) -> Sequence[Rule]:
        """The rules without anchors that could match in ``text``: none when their stems
        say their ``locate`` finds nothing (their windows would all be empty)."""
        if self._stems is not None and not self._stem_in(text, self._stems):
            return ()
        return self._always

    @staticmethod
    def _stem_in(text: str, stems: AhoCorasick) -> bool:
        """Whether ``text``, lower-cased, could hold one of ``stems``. A text that lower()
        lengthens is searched ignoring case (Rule.windows): a dotless i (U+0131) then
        matches "i", so such a text always could."""
        lowered = text.lower()
        return len(lowered) != len(text) or bool(stems.find_matches_as_indexes(lowered))

    def _present(self, text: str) -> list[int]:
        """The indexes in ``_anchor_list`` of the anchors in ``text``, in order."""
        if self._anchors is None:
            return []
        found = self._anchors.find_matches_as_indexes(text, overlapping=True)
        return sorted({index for index, _, _ in found})

    def mask_json(self, value: Any) -> Any:
        """A JSON value with every string in it masked (a new value where one changed),
        a value its key names a credential (``{"password": ...}``) too, and every key
        (``{"AKIA...": ...}``)."""
        return map_strings(value, self.mask_value, self.mask_short)

    def mask_value(self, text: str, key: str | None = None) -> str:
        """A JSON string value masked: ``key``, the key it is the value of, if any."""
        return self.mask(text, self.findings(text, key))

    def findings(self, text: str, key: str | None = None) -> list[Finding]:
        """:meth:`scan` of a JSON string value, with the credential its key names, if
        any (:meth:`keyed`) where no rule found one."""
        found = self.scan(text)
        keyed = None if key is None else self.keyed(key, text)
        if keyed is None or any(f.start < keyed.end and keyed.start < f.end for f in found):
            return found
        return sorted((*found, keyed), key=lambda f: f.start)

    def blank_keyed(self, value: Any) -> tuple[Any, list[Finding]]:
        """A JSON value with each credential its keys name (:meth:`keyed`) blanked (one
        space, as :meth:`blank`), and those credentials and those in its keys: for a
        search document, whose texts are then scanned as texts (what a rule finds
        there is the rule's)."""
        found: dict[tuple[str, str], Finding] = {}
        listed: list[Finding] = []

        def look(text: str, key: str | None) -> None:
            finding = None if key is None else self.keyed(key, text)
            if finding is not None and not any(
                f.start < finding.end and finding.start < f.end for f in self.scan(text)
            ):
                found[key or "", text] = finding
                listed.append(finding)

        def look_at_key(key: str) -> None:
            # Keys are not searched (nothing to blank), but what they hold is reported.
            if len(key) >= _SHORTEST:  # most keys: no scan at all
                listed.extend(self._key_findings(key))

        visit_strings(value, look, look_at_key, None)  # most hold none: nothing copied
        if not found:
            return value, listed

        def blank(text: str, key: str | None) -> str:
            finding = found.get((key or "", text))
            return text if finding is None else self.blank(text, [finding])

        return map_strings(value, blank), listed

    def keyed(self, key: str, text: str) -> Finding | None:
        """The credential a JSON string value holds because its key names one
        (``{"password": "..."}``): what the keyword rule finds in ``password = ...``,
        which never sees a key and its value together."""
        span = keyed_value(key, text)
        if span is None:
            return None
        value = text[span[0] : span[1]]
        if value in self.allow or any(p.search(value) for p in self._allowed):
            return None
        return Finding("secret-assignment", *span, fingerprint(value))

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

    def mask_short(self, text: str) -> str:
        """``mask`` for a short value served again and again (a title, a summary): the
        masked value of each of the last few thousand is remembered."""
        return self._remembered(text) if len(text) <= _SHORT else self.mask(text)

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
