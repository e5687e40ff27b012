"""The agents' settings files as users keep them: linked from a dotfiles repository, or
holding what the JSON writer of Python would not write back as JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from graph.cli import app
from graph.hooks import EVENTS, installed

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def linked_settings(home: Path, tmp_path: Path, settings: dict[str, Any]) -> tuple[Path, Path]:
    """``~/.claude/settings.json`` as a link into a dotfiles folder, and the file it names."""
    target = tmp_path / "dots" / "claude-settings.json"
    target.parent.mkdir()
    target.write_text(json.dumps(settings))
    link = home / ".claude" / "settings.json"
    link.parent.mkdir()
    link.symlink_to(target)
    return link, target


def test_a_linked_settings_file_is_written_through_and_stays_a_link(
    home: Path, tmp_path: Path
) -> None:
    link, target = linked_settings(home, tmp_path, {"model": "opus"})
    target.chmod(0o600)
    code, _, err = invoke("hooks", "install")
    assert code == 0, err
    assert link.is_symlink() and link.resolve() == target
    assert set(installed(json.loads(target.read_text()))) == set(EVENTS)
    assert target.stat().st_mode & 0o777 == 0o600
    # The copy aside is beside the link, where the user looks, not in the dotfiles.
    [backup] = link.parent.glob("settings.json.sessiongraph-*.bak")
    assert not backup.is_symlink() and json.loads(backup.read_text()) == {"model": "opus"}
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]

    code, _, err = invoke("hooks", "uninstall")
    assert code == 0, err
    assert link.is_symlink() and json.loads(target.read_text()) == {"model": "opus"}


def test_a_link_to_nothing_is_refused_and_left_as_it_is(home: Path, tmp_path: Path) -> None:
    link = home / ".claude" / "settings.json"
    link.parent.mkdir()
    missing = tmp_path / "dots" / "gone.json"
    link.symlink_to(missing)
    for command in ("install", "uninstall"):
        code, out, err = invoke("hooks", command)
        assert code == 1 and out == ""
        assert err.count("\n") == 1 and err.startswith("sessiongraph: error: ")
        assert f"{link} is a symbolic link to nothing ({missing})" in err
        assert "left untouched" in err
    assert link.is_symlink() and not missing.exists()
    assert list(link.parent.iterdir()) == [link]
    _, out, _ = invoke("hooks", "status")
    assert "symbolic link to nothing" in out  # shown there, not taken for "not installed"
