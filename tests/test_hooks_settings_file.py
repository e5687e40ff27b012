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


def strict_json(text: str) -> Any:
    """``text`` read as ``JSON.parse`` reads it: no NaN, no Infinity."""

    def refuse(name: str) -> Any:
        raise AssertionError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_numbers_beyond_a_double_are_written_back_as_they_were(home: Path) -> None:
    settings = home / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text('{"n": 1e999, "m": [-1E+400], "big": 123456789012345678901234567890}')
    code, _, err = invoke("hooks", "install")
    assert code == 0, err
    text = settings.read_text()
    assert "Infinity" not in text and '"n": 1e999' in text and "-1E+400" in text
    assert set(installed(strict_json(text))) == set(EVENTS)
    assert "123456789012345678901234567890" in text
    code, _, err = invoke("hooks", "uninstall")
    assert code == 0, err
    assert strict_json(settings.read_text()) == {
        "n": float("inf"),
        "m": [float("-inf")],
        "big": 123456789012345678901234567890,
    }


def test_nan_and_infinity_which_are_not_json_are_refused_untouched(home: Path) -> None:
    settings = home / ".claude" / "settings.json"
    settings.parent.mkdir()
    for content in ('{"n": NaN}', '{"n": -Infinity}'):
        settings.write_text(content)
        code, out, err = invoke("hooks", "install")
        assert code == 1 and out == "" and err.count("\n") == 1
        assert f"{settings} is not valid JSON" in err and "left untouched" in err
        assert settings.read_text() == content
