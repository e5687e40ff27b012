"""``sessiongraph usage``: the reports, their totals row, JSON, unpriced models, errors."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from graph.cli import app
from graph.importers.importer import import_paths
from graph.store import Store
from tests.conftest import FIXTURES
from tests.usage_data import assistant, billed_messages, write

runner = CliRunner()
SID = "44444444-0000-4000-8000-000000000004"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Read only by the tests: one database for the module.
    tmp_path = tmp_path_factory.mktemp("usage")
    samples_dir = FIXTURES / "claude-code"
    path = tmp_path / "u.db"
    write(
        tmp_path / "extra",
        SID,
        [
            assistant(SID, "x1", "mx1", "2026-02-13T23:30:00.000Z", model="local-llama", input=7),
        ],
    )

    async def fill() -> None:
        store = await Store.open(path)
        try:
            await import_paths(store, [samples_dir, tmp_path / "extra"], worker=False)
        finally:
            await store.close()

    asyncio.run(fill())
    return path


def usage(db: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["usage", *args, "--db", str(db)], env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


def test_daily_json_totals_equal_an_independent_count(db: Path, samples_dir: Path) -> None:
    code, out, _ = usage(db, "daily", "--json", "--tz", "UTC")
    assert code == 0
    report = json.loads(out)
    billed = billed_messages(sorted(samples_dir.rglob("*.jsonl")))
    assert report["totals"]["tokens"]["total"] == sum(b.total for b in billed.values()) + 107
    assert report["totals"]["messages"] == len(billed) + 1
    assert [r["day"] for r in report["rows"]] == ["2026-02-10", "2026-02-12", "2026-02-13"]
    assert report["unpricedModels"] == ["local-llama"]
    assert report["rows"][-1]["costUsd"] is None
    assert report["totals"]["costUsd"] > 0


def test_the_time_zone_cuts_the_days(db: Path) -> None:
    _, out, _ = usage(db, "daily", "--json", "--tz", "Asia/Tokyo")
    assert [r["day"] for r in json.loads(out)["rows"]][-1] == "2026-02-14"


def test_a_table_with_a_totals_row_and_the_unpriced_models(db: Path) -> None:
    code, out, _ = usage(db, "daily", "--by", "model", "--tz", "UTC")
    assert code == 0
    lines = out.splitlines()
    assert any("claude-opus-4-6" in line and "$" in line for line in lines)
    assert any(line.strip("│ ").startswith("total") for line in lines)
    assert "unpriced" in out and "local-llama" in out


@pytest.mark.parametrize("report", ["weekly", "monthly", "session", "blocks"])
def test_every_report_runs(db: Path, report: str) -> None:
    code, out, _ = usage(db, report, "--json")
    assert code == 0
    data = json.loads(out)
    rows = data["blocks"] if report == "blocks" else data["rows"]
    assert rows
    if report == "session":
        assert {r["session"] for r in rows} >= {SID}
    code, table, _ = usage(db, report)
    assert code == 0 and "total" in table


def test_since_until_and_project_filter(db: Path) -> None:
    _, out, _ = usage(
        db, "daily", "--json", "--since", "20260211", "--until", "2026-02-12", "--tz", "UTC"
    )
    assert [r["day"] for r in json.loads(out)["rows"]] == ["2026-02-12"]
    _, out, _ = usage(db, "monthly", "--json", "--project", "-home-dev-app")
    assert json.loads(out)["totals"]["messages"] == 1


def test_a_price_file_prices_an_unknown_model(db: Path, tmp_path: Path) -> None:
    prices = tmp_path / "prices.toml"
    prices.write_text('[models."local-llama"]\ninput = 1000\noutput = 0\n')
    _, out, _ = usage(db, "daily", "--json", "--tz", "UTC", "--prices", str(prices))
    report = json.loads(out)
    assert report["unpricedModels"] == []
    assert report["rows"][-1]["costUsd"] == pytest.approx(0.007)  # 7 input tokens at $1000/MTok


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "yesterday"], "--since takes a date"),
        (["--tz", "Nowhere/Land"], "is not an IANA time zone"),
        (["--prices", "/nonexistent/prices.toml"], "does not exist"),
    ],
)
def test_errors_are_one_line(db: Path, args: list[str], message: str) -> None:
    code, _, err = usage(db, *args)
    assert code == 1
    assert err.startswith("sessiongraph: error:") and message in err
    assert len(err.strip().splitlines()) == 1


def test_a_narrow_terminal_gets_compact_counts_and_whole_days(tmp_path: Path) -> None:
    """80 columns: days and numbers whole (compact counts, short headings); a wide one
    gets exact counts."""
    from graph.cli import app

    db = str(tmp_path / "demo.db")
    assert CliRunner().invoke(app, ["demo", "--db", db]).exit_code == 0
    args = ["usage", "daily", "--db", db, "--tz", "UTC"]
    narrow = CliRunner().invoke(app, args, env={"COLUMNS": "80", "NO_COLOR": "1"}).stdout
    assert "2026-02-10" in narrow and "17.6M" in narrow and "…" not in narrow
    assert all(len(line) <= 80 for line in narrow.splitlines())
    wide = CliRunner().invoke(app, args, env={"COLUMNS": "160", "NO_COLOR": "1"}).stdout
    assert "17,618," in wide and "total tokens" in wide


@pytest.mark.parametrize("columns", [80, 100])
def test_billing_blocks_on_a_narrow_terminal_keep_every_time_and_figure_whole(
    tmp_path: Path, columns: int
) -> None:
    """The blocks report fits as the others do: compact counts, then fewer columns (named),
    never a start time or a figure cut short (rich cut them to "2026…" and "16,6…")."""
    from graph.cli import app

    db = str(tmp_path / "demo.db")
    assert CliRunner().invoke(app, ["demo", "--db", db]).exit_code == 0
    args = ["usage", "blocks", "--db", db, "--tz", "UTC"]
    env = {"COLUMNS": str(columns), "NO_COLOR": "1"}
    lines = CliRunner().invoke(app, args, env=env).stdout.splitlines()
    assert lines and all(len(line) <= columns for line in lines)
    assert not any("…" in line for line in lines)
    assert any("2026-02-12 14:00" in line and "17.0M" in line for line in lines)
    assert any(line.strip().startswith("total") and "17.6M" in line for line in lines)
    assert any(line.startswith("not shown at this width: ") for line in lines)
    wide = CliRunner().invoke(app, args, env={"COLUMNS": "200", "NO_COLOR": "1"}).stdout
    assert "17,618,352" in wide and "cache write" in wide and "not shown" not in wide


def test_a_narrow_terminal_keeps_names_whole_and_says_which_columns_it_leaves_out(
    tmp_path: Path,
) -> None:
    """80 columns and two names per row: names fold onto more lines (never cut), the
    total and the cost stay, and the columns left out are named (rich would drop them
    without a word)."""
    from graph.cli import app

    db = str(tmp_path / "demo.db")
    assert CliRunner().invoke(app, ["demo", "--db", db]).exit_code == 0
    args = ["usage", "daily", "--by", "model", "--by", "project", "--db", db, "--tz", "UTC"]
    env = {"COLUMNS": "80", "NO_COLOR": "1"}
    lines = CliRunner().invoke(app, args, env=env).stdout.splitlines()
    assert all(len(line) <= 80 for line in lines) and not any("…" in line for line in lines)
    heading = next(line for line in lines if " model " in line)
    assert "total" in heading and "USD" in heading
    assert any(line.startswith("not shown at this width: ") for line in lines)
    start, end = heading.index("model"), heading.index("project")
    models: list[str] = []
    for line in lines[lines.index(heading) + 2 :]:
        if not line.strip():
            break
        cell = line[start:end].strip()
        if line[:start].strip():  # a row's first line: a day in the first column
            models.append(cell)
        else:
            models[-1] += cell
    wide = CliRunner().invoke(app, [*args, "--json"]).stdout
    assert sorted(models) == sorted(row["model"] for row in json.loads(wide)["rows"])
