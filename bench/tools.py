"""Tool calls for generated transcripts: inputs, results and ``toolUseResult`` payloads.

Tools that produce output (Bash, Read, Grep, Glob, WebFetch, Task) return 1-50 KB,
skewed small the way real sessions are (median ~1 KB, p99 ~33 KB, up to 50 KB; with the
``toolUseResult`` copy a tool-result row averages ~4.5 KB, as in the real samples); tools that
change files return a line or two. A few calls fail with a short error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import random

    from bench.text import TextPool

__all__ = ["ToolCall", "result_size", "tool_call"]

Json = dict[str, Any]


class ToolCall:
    """One tool call: what the assistant asked and what came back."""

    __slots__ = ("content", "input", "is_error", "name", "use_result")

    def __init__(
        self, name: str, input: Json, content: str, use_result: Any, *, is_error: bool = False
    ) -> None:
        self.name = name
        self.input = input
        self.content = content
        self.use_result = use_result
        self.is_error = is_error


def result_size(rng: random.Random) -> int:
    """Bytes of tool output: 1 KB to 50 KB; median ~1 KB, p90 ~3 KB, p99 ~33 KB, mean ~2.4 KB."""
    return int(1024 * 50 ** (rng.random() ** 12))


def tool_call(rng: random.Random, text: TextPool, name: str, cwd: str) -> ToolCall:
    """A plausible call of ``name`` with its result."""
    path = f"{cwd}/src/{text.short(1, 1)}/{text.short(1, 1)}.py"
    if rng.random() < 0.03:
        error = f"Error: {text.words(rng.randint(40, 300))}"
        return ToolCall(name, {"file_path": path}, error, error, is_error=True)
    if name == "Bash":
        out = text.code_text(result_size(rng))
        command = f"cd {cwd} && pytest -q tests/test_{text.short(1, 1)}.py"
        return ToolCall(
            name,
            {"command": command, "description": text.short()},
            out,
            {
                "stdout": out,
                "stderr": "",
                "interrupted": False,
                "isImage": False,
                "noOutputExpected": False,
            },
        )
    if name == "Read":
        out = text.code_text(result_size(rng))
        lines = out.count("\n") + 1
        file = {
            "filePath": path,
            "content": out,
            "numLines": lines,
            "startLine": 1,
            "totalLines": lines,
        }
        return ToolCall(name, {"file_path": path}, out, {"type": "text", "file": file})
    if name == "Grep":
        out = text.code_text(result_size(rng))
        lines = out.count("\n")
        return ToolCall(
            name,
            {"pattern": text.short(1, 2), "path": cwd, "output_mode": "content"},
            out,
            {
                "mode": "content",
                "numFiles": lines // 4,
                "filenames": [],
                "content": out,
                "numLines": lines,
            },
        )
    if name == "Glob":
        out = text.code_text(result_size(rng))
        names = [f"{cwd}/{line[:40]}" for line in out.splitlines()[:20]]
        return ToolCall(
            name,
            {"pattern": "**/*.py"},
            out,
            {
                "filenames": names,
                "durationMs": rng.randint(5, 400),
                "numFiles": len(names),
                "truncated": False,
            },
        )
    if name == "WebFetch":
        out = text.words(result_size(rng))
        url = f"https://docs.example.org/{text.short(1, 1)}"
        return ToolCall(
            name,
            {"url": url, "prompt": text.short(6, 14)},
            out,
            {
                "bytes": len(out) * 9,
                "code": 200,
                "codeText": "OK",
                "result": out,
                "durationMs": rng.randint(500, 9000),
                "url": url,
            },
        )
    if name in ("Edit", "Write"):
        old, new = text.code_text(rng.randint(40, 600)), text.code_text(rng.randint(40, 800))
        patch = [
            {
                "oldStart": 1,
                "oldLines": 3,
                "newStart": 1,
                "newLines": 4,
                "lines": [f"-{old[:60]}", f"+{new[:60]}"],
            }
        ]
        if name == "Edit":
            return ToolCall(
                name,
                {"file_path": path, "old_string": old, "new_string": new, "replace_all": False},
                f"The file {path} has been updated successfully.",
                {
                    "filePath": path,
                    "oldString": old,
                    "newString": new,
                    "originalFile": text.code_text(rng.randint(300, 2500)),
                    "structuredPatch": patch,
                    "userModified": False,
                    "replaceAll": False,
                },
            )
        return ToolCall(
            name,
            {"file_path": path, "content": new},
            f"File created successfully at: {path}",
            {
                "type": "create",
                "filePath": path,
                "content": new,
                "structuredPatch": [],
                "originalFile": None,
            },
        )
    if name == "TodoWrite":
        todos = [
            {
                "content": text.short(),
                "status": rng.choice(("pending", "in_progress", "completed")),
                "activeForm": text.short(),
            }
            for _ in range(rng.randint(2, 7))
        ]
        return ToolCall(
            name,
            {"todos": todos},
            "Todos have been modified successfully.",
            {"oldTodos": todos[1:], "newTodos": todos},
        )
    skill = f"{text.short(1, 1)}:{text.short(1, 1)}"
    return ToolCall(
        name,
        {"skill": skill, "args": text.short()},
        f"Launching skill: {skill}",
        {
            "success": True,
            "commandName": skill,
            "allowedTools": ["Read", "Grep", "Glob"],
            "model": "claude-haiku-4-5-20251001",
        },
    )
