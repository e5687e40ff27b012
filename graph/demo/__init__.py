"""Bundled demo data: real, sanitized Claude Code sessions (see LICENSE-spotter inside).

``claude-code.tar.gz`` holds the sample transcripts of tests/fixtures/claude-code laid
out as Claude Code writes them (``projects/<project>/<sessionId>.jsonl`` and
``<sessionId>/subagents/``), so that ``sessiongraph demo`` (and ``make run`` on a
machine without ``~/.claude/projects``) has something to show. :func:`build_archive`
rebuilds it from the fixtures, byte for byte the same (a test checks that it is)::

    python -c "from pathlib import Path; from graph.demo import build_archive;
    Path('graph/demo/claude-code.tar.gz').write_bytes(build_archive(Path('tests/fixtures/claude-code')))"
"""

from __future__ import annotations

import gzip
import io
import tarfile
from importlib.resources import files
from pathlib import Path, PurePosixPath
from typing import Final

import orjson

from graph.errors import ConfigError
from graph.importers.files import encode_project

__all__ = ["ARCHIVE_NAME", "archive_bytes", "build_archive", "extract_demo"]

ARCHIVE_NAME: Final = "claude-code.tar.gz"
_EXTRA_FILES: Final = ("LICENSE-spotter", "README.md")


def archive_bytes() -> bytes:
    """The bundled archive."""
    return files("graph.demo").joinpath(ARCHIVE_NAME).read_bytes()


def _first(path: Path, key: str) -> str:
    with path.open("rb") as fh:
        for line in fh:
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if isinstance(record, dict) and isinstance(record.get(key), str):
                return str(record[key])
    raise ConfigError(f"{path}: no record with a {key!r}")


def _layout(samples: Path) -> dict[str, Path]:
    """Archive member name -> sample file."""
    members: dict[str, Path] = {}
    for name in _EXTRA_FILES:
        members[name] = samples / name
    for main in sorted(samples.glob("*.jsonl")):
        session_id = _first(main, "sessionId")
        project = f"projects/{encode_project(_first(main, 'cwd'))}"
        members[f"{project}/{session_id}.jsonl"] = main
        for agent in sorted((samples / main.stem / "subagents").glob("agent-*.jsonl")):
            members[f"{project}/{session_id}/subagents/{agent.name}"] = agent
    return members


def build_archive(samples: Path) -> bytes:
    """A reproducible ``.tar.gz`` of ``samples`` in Claude Code's layout."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, path in sorted(_layout(samples).items()):
            data = path.read_bytes()
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), compresslevel=9, mtime=0)


def extract_demo(target: Path) -> Path:
    """Unpack the demo transcripts into ``target``; the ``projects`` directory in it.

    A file that is already there with the same content is left alone, so that its
    modification time, and therefore the next import, stays a no-op.
    """
    with tarfile.open(fileobj=io.BytesIO(archive_bytes()), mode="r:gz") as tar:
        for member in tar.getmembers():
            relative = PurePosixPath(member.name)
            if not member.isfile() or relative.is_absolute() or ".." in relative.parts:
                continue
            source = tar.extractfile(member)
            if source is None:
                continue
            data = source.read()
            destination = target.joinpath(*relative.parts)
            if destination.is_file() and destination.read_bytes() == data:
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(data)
    return target / "projects"
