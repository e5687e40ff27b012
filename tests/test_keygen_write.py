"""``keygen`` writes a key whole or not at all: a failed write leaves no file that a
later keygen would refuse to overwrite."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from graph.cli import app
from graph.keys import read_key_file

runner = CliRunner()


class FullDisk:
    """A file opened on a full disk: creating it works, writing to it does not."""

    def __init__(self, fd: int, *args: Any, **kwargs: Any) -> None:
        self.fd = fd

    def __enter__(self) -> FullDisk:
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)

    def write(self, text: str) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    def flush(self) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    def fileno(self) -> int:
        return self.fd


def test_keygen_on_a_full_disk_leaves_nothing_and_the_next_keygen_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = tmp_path / "keys" / "key"
    monkeypatch.setattr(os, "fdopen", FullDisk)
    result = runner.invoke(app, ["keygen", "--out", str(key)])
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"sessiongraph: error: cannot write key file {key}: ")
    assert "No space left on device: free some space" in result.stderr
    assert list(key.parent.iterdir()) == []  # no empty key, no temporary file
    monkeypatch.undo()

    result = runner.invoke(app, ["keygen", "--out", str(key)])
    assert result.exit_code == 0, result.stderr
    assert list(key.parent.iterdir()) == [key]
    assert key.stat().st_mode & 0o777 == 0o600 and key.stat().st_nlink == 1
    read_key_file(key)  # a whole key
    result = runner.invoke(app, ["keygen", "--out", str(key)])
    assert result.exit_code == 1 and "keygen never overwrites a key" in result.stderr


def test_keygen_without_hard_links_still_never_overwrites(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(*args: Any) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    key = tmp_path / "key"
    assert runner.invoke(app, ["keygen", "--out", str(key)]).exit_code == 0
    assert list(tmp_path.iterdir()) == [key] and key.stat().st_mode & 0o777 == 0o600
    before = key.read_bytes()
    read_key_file(key)
    result = runner.invoke(app, ["keygen", "--out", str(key)])
    assert result.exit_code == 1 and "keygen never overwrites a key" in result.stderr
    assert key.read_bytes() == before
