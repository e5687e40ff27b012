"""Encryption benchmark (issue 5): an encrypted database against a plaintext one, same run.

    python -m bench.encryption                 # 10k messages (~59 MB of JSONL)
    python -m bench.encryption --quick         # 1k messages, few iterations
    python -m bench.encryption --messages 50000 --rounds 3 --json enc.json

One generated corpus (:func:`bench.generate.generate`) is imported twice, into a fresh
plaintext database and into a fresh encrypted one (a random key), each import in its own
subprocess (:mod:`bench.encryption_worker`; the rounds alternate which goes first, the
fastest round of each counts). Then, on those two files, the same GraphQL requests run
through ``schema.execute`` with a fresh :class:`Context` per request (fresh loaders and
a fresh decryption memo, as the HTTP endpoint makes them), the two databases in
alternation (so that both series see the same load on the machine):

- ``search(query:, first: 20)`` for a common word, a rare word (picked from the plaintext
  index: the rarest words that still have hits) and a phrase, selecting score, snippet
  (cut from decrypted text), the node and its session. No prefix query: an encrypted
  index holds keyed hashes of whole words, so prefixes are refused there.
- a page of 50 sessions with their titles and the text of their first 5 messages.

Reported: import rate (messages/s, MB/s) of each and encrypted/plaintext; p50/p95 of
each request in each database and encrypted/plaintext; SQL statements and decryptions
per request; whether both databases gave the same answer. The issue's targets are shown
next to the figures; nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Final

from rich.console import Console
from rich.table import Table

from bench.encryption_worker import MODES, EncryptionMode, run_import
from bench.generate import Corpus, generate
from bench.ingest import IngestResult
from bench.queries import SchemaClient
from bench.report import write_figures
from bench.run import wide_console
from bench.timing import Plan, Timing, summarize
from graph.crypto import Cipher, MasterKey
from graph.schema.search import DEFAULT_FIELDS
from graph.search.fts import compile_query
from graph.search.query import parse
from graph.store import Store
from graph.store.keyring import KeyMaterial

__all__ = [
    "COMMON_WORD",
    "PAGE",
    "PHRASE",
    "SEARCH",
    "TARGET_IMPORT_RATIO",
    "TARGET_PAGE_RATIO",
    "TARGET_SEARCH_RATIO",
    "EncryptionReport",
    "RequestCase",
    "bench_encryption",
    "encryption_tables",
    "main",
    "pick_rare_word",
]

# Issue 5, "Speed (benchmarked)".
TARGET_IMPORT_RATIO: Final = 0.75  # encrypted import rate >= 0.75x the plaintext rate
TARGET_SEARCH_RATIO: Final = 1.2  # search p50 within 1.2x of plaintext
TARGET_PAGE_RATIO: Final = 1.3  # a 50-session page with text within 1.3x

DEFAULT_MESSAGES: Final = 10_000
QUICK_MESSAGES: Final = 1_000
FULL_PLAN: Final = Plan(warmup=5, iterations=300, budget_s=2.0, minimum=20)
QUICK_PLAN: Final = Plan(warmup=2, iterations=30, budget_s=0.3, minimum=5)

COMMON_WORD: Final = "session"  # in ~20% of the generated messages
PHRASE: Final = '"the session"'  # two common words, side by side: positions are checked
SEARCH: Final = """query Search($q: String!) { search(query: $q, first: 20) { edges { node {
  score snippet highlights { start end }
  node { __typename ... on Message { uuid } ... on Event { uuid } ... on Session { sessionId } }
  session { sessionId } } } } }"""
PAGE: Final = """{ sessions(first: 50) { edges { node { title
  messages(first: 5) { edges { node { text } } } } } } }"""

_HITS: Final = (
    "SELECT count(*) FROM search_fts JOIN search_docs AS d ON d.rowid = search_fts.rowid"
    " WHERE search_fts MATCH ? AND d.kind IN ('message', 'session')"
)


@dataclass(frozen=True, slots=True)
class RequestCase:
    """One GraphQL request, timed in the plaintext and in the encrypted database."""

    name: str
    query: str  # the search query, or "" for the session page
    target: float  # the largest encrypted/plaintext p50 ratio the issue allows
    plain: Timing
    encrypted: Timing
    hits: int  # search: documents in the default scopes matching (plaintext index)
    plain_statements: int
    encrypted_statements: int
    decryptions: int  # values decrypted by one request in the encrypted database
    same_answer: bool  # identical ``data`` from both databases

    @property
    def ratio(self) -> float:
        """Encrypted p50 over plaintext p50."""
        return self.encrypted.p50_ms / self.plain.p50_ms

    @property
    def p95_ratio(self) -> float:
        return self.encrypted.p95_ms / self.plain.p95_ms

    @property
    def met(self) -> bool:
        return self.ratio <= self.target

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio, "p95_ratio": self.p95_ratio, "met": self.met}


@dataclass(slots=True)
class EncryptionReport:
    """Both imports of one corpus (every round), and the requests on the two files."""

    corpus: Corpus
    imports: dict[str, list[IngestResult]] = field(default_factory=dict)
    cases: list[RequestCase] = field(default_factory=list)
    rare_word: str = ""

    def best(self, mode: EncryptionMode) -> IngestResult:
        """The fastest round of ``mode``."""
        return min(self.imports[mode], key=lambda r: r.seconds)

    @property
    def import_ratio(self) -> float:
        """Encrypted messages/s over plaintext messages/s (fastest rounds)."""
        return self.best("encrypted").messages_per_s / self.best("plain").messages_per_s

    @property
    def import_met(self) -> bool:
        return self.import_ratio >= TARGET_IMPORT_RATIO

    def to_dict(self) -> dict[str, Any]:
        return {
            "corpus": {**asdict(self.corpus), "root": str(self.corpus.root)},
            "imports": {
                mode: [
                    {**r.to_dict(), "messages_per_s": r.messages_per_s, "mb_per_s": r.mb_per_s}
                    for r in rounds
                ]
                for mode, rounds in self.imports.items()
            },
            "import_ratio": self.import_ratio,
            "import_target": TARGET_IMPORT_RATIO,
            "rare_word": self.rare_word,
            "cases": [case.to_dict() for case in self.cases],
        }


def pick_rare_word(db: Path, most: int = 10) -> str | None:
    """The rarest whole word of the plaintext index that still has a hit in the default
    fields and scopes (at most ``most`` hits), or None.

    Read through ``fts5vocab`` in the connection's temp schema: nothing is written to
    the database. Words of letters only, 6+ characters; ties broken alphabetically, so
    the same corpus always gives the same word.
    """
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        conn.execute("CREATE VIRTUAL TABLE temp.bench_vocab USING fts5vocab(main, search_fts, row)")
        candidates = conn.execute(
            "SELECT term FROM temp.bench_vocab WHERE doc BETWEEN 1 AND ? AND length(term) >= 6"
            " AND term NOT GLOB '*[^a-z]*' ORDER BY doc, term LIMIT 200",
            (most,),
        ).fetchall()
        for (term,) in candidates:
            expression = compile_query(parse(term), DEFAULT_FIELDS).expression
            [(hits,)] = conn.execute(_HITS, (expression,)).fetchall()
            if hits:
                return str(term)
        return None
    finally:
        conn.close()


def _hits(db: Path, query: str) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        expression = compile_query(parse(query), DEFAULT_FIELDS).expression
        return int(conn.execute(_HITS, (expression,)).fetchone()[0])
    finally:
        conn.close()


async def _paired(
    plain: Callable[[], Awaitable[Any]], encrypted: Callable[[], Awaitable[Any]], plan: Plan
) -> tuple[Timing, Timing]:
    """Time two calls in alternation (plain, encrypted, plain, ...): both series see the
    same machine, so a ratio is not skewed by load that came and went between them."""
    gc.collect()
    for _ in range(plan.warmup):
        await plain()
        await encrypted()
    samples: tuple[list[float], list[float]] = ([], [])
    started = time.perf_counter()
    while len(samples[0]) < plan.iterations and (
        len(samples[0]) < plan.minimum or time.perf_counter() - started < 2 * plan.budget_s
    ):
        for call, series in ((plain, samples[0]), (encrypted, samples[1])):
            t0 = time.perf_counter()
            await call()
            series.append(time.perf_counter() - t0)
    return summarize(samples[0]), summarize(samples[1])


class _Api(SchemaClient):
    """The schema client, also counting what one request decrypts."""

    async def counted(self, query: str, variables: dict[str, Any] | None) -> tuple[Any, int, int]:
        """One request's data, SQL statements and decryptions."""
        codec = self.store.codec
        before = codec.decryptions if isinstance(codec, Cipher) else 0
        statements_before = self.store.statements.count
        data = await self.run(query, variables)
        after = codec.decryptions if isinstance(codec, Cipher) else 0
        return data, self.store.statements.count - statements_before, after - before


async def _request(
    name: str,
    query: str,
    variables: dict[str, Any] | None,
    search: str,
    target: float,
    apis: dict[str, _Api],
    plain_db: Path,
    plan: Plan,
) -> RequestCase:
    plain_data, plain_statements, _ = await apis["plain"].counted(query, variables)
    enc_data, enc_statements, decryptions = await apis["encrypted"].counted(query, variables)
    plain, encrypted = await _paired(
        partial(apis["plain"].run, query, variables),
        partial(apis["encrypted"].run, query, variables),
        plan,
    )
    return RequestCase(
        name=name,
        query=search,
        target=target,
        plain=plain,
        encrypted=encrypted,
        hits=_hits(plain_db, search) if search else 0,
        plain_statements=plain_statements,
        encrypted_statements=enc_statements,
        decryptions=decryptions,
        same_answer=plain_data == enc_data,
    )


async def _requests(
    report: EncryptionReport, dbs: dict[str, Path], key: MasterKey, plan: Plan
) -> None:
    stores = {
        "plain": await Store.open(dbs["plain"], backup=False),
        "encrypted": await Store.open(dbs["encrypted"], backup=False, key=KeyMaterial(key=key)),
    }
    try:
        apis = {mode: _Api(store) for mode, store in stores.items()}
        rare = pick_rare_word(dbs["plain"])
        report.rare_word = rare or ""
        searches = [("search: common word", COMMON_WORD)]
        if rare is not None:
            searches.append(("search: rare word", rare))
        searches.append(("search: phrase", PHRASE))
        run = partial(_request, apis=apis, plain_db=dbs["plain"], plan=plan)
        for name, text in searches:
            report.cases.append(await run(name, SEARCH, {"q": text}, text, TARGET_SEARCH_RATIO))
        report.cases.append(
            await run("50 sessions + 5 messages' text each", PAGE, None, "", TARGET_PAGE_RATIO)
        )
    finally:
        for store in stores.values():
            await store.close()


def bench_encryption(
    workdir: Path,
    messages: int,
    plan: Plan,
    *,
    seed: int = 7,
    rounds: int = 1,
    console: Console | None = None,
) -> EncryptionReport:
    """Generate a corpus in ``workdir``, import it both ways, time the requests."""
    console = console or Console(quiet=True)
    started = time.perf_counter()
    with console.status(f"generating {messages:,} messages..."):
        corpus = generate(workdir / f"corpus-{messages}-seed{seed}", messages, seed=seed)
    console.print(
        f"generated {corpus.messages:,} messages, {corpus.megabytes:.1f} MB in "
        f"{time.perf_counter() - started:.1f}s"
    )
    report = EncryptionReport(corpus=corpus, imports={mode: [] for mode in MODES})
    key = MasterKey.generate()
    dbs: dict[str, Path] = {mode: workdir / f"{mode}.db" for mode in MODES}
    for index in range(rounds):
        order = MODES if index % 2 == 0 else MODES[::-1]  # neither always goes first
        for mode in order:
            with console.status(f"round {index + 1}/{rounds}: {mode} import..."):
                result = run_import(mode, corpus.root, dbs[mode], key.to_base64())
            report.imports[mode].append(result)
            console.print(
                f"  {mode}: {result.seconds:.2f}s, {result.messages_per_s:,.0f} messages/s, "
                f"{result.db_mb:.0f} MB"
            )
    with console.status("timing requests in both databases..."):
        asyncio.run(_requests(report, dbs, key, plan))
    return report


def _yes(ok: bool) -> str:
    return "[green]yes[/green]" if ok else "[red]no[/red]"


def _ms(t: Timing) -> str:
    return f"{t.p50_ms:.2f} / {t.p95_ms:.2f}"


def encryption_tables(report: EncryptionReport) -> list[Table]:
    """The import table and the request table, each with the issue's targets."""
    c = report.corpus
    plain, enc = report.best("plain"), report.best("encrypted")
    imports = Table(
        title=f"Encryption at rest, import: {c.messages:,} messages, {c.megabytes:.0f} MB of "
        f"JSONL (fresh DB per import, one subprocess each, fastest of "
        f"{len(report.imports['plain'])} round(s))"
    )
    imports.caption = (
        "import_paths timed alone (search index kept in the same transaction in both). "
        "ratio: encrypted rate / plaintext rate."
    )
    imports.add_column("figure")
    for name in ("plaintext", "encrypted", "ratio", "target", "met?"):
        imports.add_column(name, justify="right")
    ratio = report.import_ratio
    mb_ratio = enc.mb_per_s / plain.mb_per_s
    target = f">= {TARGET_IMPORT_RATIO}x"
    imports.add_row(
        "messages/s",
        f"{plain.messages_per_s:,.0f}",
        f"{enc.messages_per_s:,.0f}",
        f"{ratio:.2f}x",
        target,
        _yes(report.import_met),
    )
    imports.add_row(
        "MB/s",
        f"{plain.mb_per_s:.1f}",
        f"{enc.mb_per_s:.1f}",
        f"{mb_ratio:.2f}x",
        target,
        _yes(mb_ratio >= TARGET_IMPORT_RATIO),
    )
    imports.add_row(
        "seconds",
        f"{plain.seconds:.2f}",
        f"{enc.seconds:.2f}",
        f"{enc.seconds / plain.seconds:.2f}x",
        "",
        "",
    )
    imports.add_row(
        "DB + WAL MB",
        f"{plain.db_mb:.0f}",
        f"{enc.db_mb:.0f}",
        f"{enc.db_mb / plain.db_mb:.2f}x",
        "",
        "",
    )
    imports.add_row("peak RSS MB", f"{plain.peak_rss_mb:.0f}", f"{enc.peak_rss_mb:.0f}", "", "", "")
    imports.add_row(
        "rows (sessions / messages / events)",
        f"{plain.sessions:,} / {plain.messages:,} / {plain.events:,}",
        f"{enc.sessions:,} / {enc.messages:,} / {enc.events:,}",
        "",
        "",
        _yes(
            (plain.sessions, plain.messages, plain.events)
            == (enc.sessions, enc.messages, enc.events)
        ),
    )

    requests = Table(
        title="Encryption at rest, requests through schema.execute (fresh Context each, the two "
        "databases alternating), ms p50 / p95"
    )
    requests.caption = (
        "search: top 20 with score, snippet, highlights, node, session (default fields and "
        "scopes; hits counted on the plaintext index). No prefix query: refused in an "
        "encrypted database. decrypt: values decrypted by one encrypted request. same: "
        "identical data from both databases."
    )
    requests.add_column("request")
    for name in (
        "hits",
        "plaintext",
        "encrypted",
        "ratio p50",
        "ratio p95",
        "SQL stmts",
        "decrypt",
        "same",
        "target p50",
        "met?",
    ):
        requests.add_column(name, justify="right")
    for case in report.cases:
        requests.add_row(
            case.name + (f" [dim]{case.query}[/dim]" if case.query else ""),
            f"{case.hits:,}" if case.query else "",
            _ms(case.plain),
            _ms(case.encrypted),
            f"{case.ratio:.2f}x",
            f"{case.p95_ratio:.2f}x",
            f"{case.plain_statements} / {case.encrypted_statements}",
            f"{case.decryptions:,}",
            _yes(case.same_answer),
            f"<= {case.target}x",
            _yes(case.met),
        )
    return [imports, requests]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.encryption",
        description="Issue 5: import and query an encrypted database against a plaintext "
        "one, same corpus, same run. Figures only; nothing is asserted.",
    )
    parser.add_argument(
        "--messages",
        type=int,
        metavar="N",
        help=f"corpus size in API messages (default {DEFAULT_MESSAGES:,}, "
        f"--quick {QUICK_MESSAGES:,})",
    )
    parser.add_argument("--quick", action="store_true", help="small corpus, few iterations")
    parser.add_argument(
        "--rounds",
        type=int,
        metavar="R",
        help="imports of each kind, alternating which goes first (default 2, --quick 1)",
    )
    parser.add_argument("--seed", type=int, default=7, help="generator seed (default 7)")
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="work in DIR and keep the corpus and both databases (default: a temp dir)",
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write figures as JSON")
    args = parser.parse_args(argv)
    if args.messages is not None and args.messages < 50:
        parser.error("--messages: at least 50")
    if args.rounds is not None and args.rounds < 1:
        parser.error("--rounds: at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    console = wide_console()
    messages = args.messages or (QUICK_MESSAGES if args.quick else DEFAULT_MESSAGES)
    rounds = args.rounds or (1 if args.quick else 2)
    workdir = args.keep.resolve() if args.keep else Path(tempfile.mkdtemp(prefix="sg-bench-enc-"))
    workdir.mkdir(parents=True, exist_ok=True)
    console.print(f"working in {workdir}" + ("" if args.keep else " (removed at the end)"))
    try:
        report = bench_encryption(
            workdir,
            messages,
            QUICK_PLAN if args.quick else FULL_PLAN,
            seed=args.seed,
            rounds=rounds,
            console=console,
        )
    finally:
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)
    for table in encryption_tables(report):
        console.print(table)
    write_figures(console, args.json, report.to_dict())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
