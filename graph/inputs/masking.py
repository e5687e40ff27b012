"""The secret rules a message's text is masked with, as importers and the store see them."""

from __future__ import annotations

from typing import Protocol

from graph.content import Block, readable_text

__all__ = ["Masker", "masked_text"]


class Masker(Protocol):
    """The secret rules a message's text is masked with (a ``SecretScanner``)."""

    @property
    def digest(self) -> str: ...

    def could_contain(self, text: str) -> bool: ...

    def mask(self, text: str) -> str: ...


def masked_text(blocks: list[Block], rules: Masker, text: str | None = None) -> str:
    """The readable text of ``blocks`` with every secret ``rules`` find masked, block by
    block (as serving masks it); ``text``: their readable text, if known."""
    text = readable_text(blocks) if text is None else text
    return readable_text(blocks, rules.mask) if rules.could_contain(text) else text
