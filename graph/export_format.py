"""What ``sessiongraph export`` writes: a leaf module, so that parsing the command line
(which names the formats) does not load the export code behind them."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ExportFormat"]


class ExportFormat(StrEnum):
    """What ``sessiongraph export`` writes."""

    JSONL = "jsonl"
    JSON = "json"
    MARKDOWN = "markdown"
