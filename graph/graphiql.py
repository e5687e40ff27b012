"""Offline GraphiQL playground page.

Strawberry's bundled GraphiQL page loads React and GraphiQL from a public CDN,
which does not work on machines without internet access. This module renders
an equivalent page whose scripts and stylesheet are served by the application
itself from the vendored copies in ``graph/static/graphiql/`` (refreshed with
``scripts/vendor-graphiql.sh``).

The application mounts :data:`STATIC_DIR` with Starlette, for example::

    from starlette.staticfiles import StaticFiles

    Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static")

and returns :func:`graphiql_html` as the HTML response of the playground route.
The page (``graph/templates/graphiql.html``) and its one inline script
(``graph/templates/graphiql.js``) are files of their own; this module fills them in.

The page holds no secret, so it can be served without authentication. The bearer
token reaches it in the URL fragment (``/graphql#token=...``, which browsers never
send to the server), or through a small login field shown when there is no token
or the server answers 401; the page keeps it in the tab's ``sessionStorage`` and
adds ``Authorization: Bearer <token>`` to every GraphQL request. Subscriptions run
over a WebSocket with the vendored graphql-ws client, the token in ``connection_init``.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from importlib import resources
from pathlib import Path
from typing import Final

__all__ = [
    "ASSETS",
    "DEFAULT_QUERY",
    "GRAPHIQL_DIR",
    "STATIC_DIR",
    "TOKEN_STORAGE_KEY",
    "graphiql_html",
]

STATIC_DIR: Final[Path] = Path(__file__).resolve().parent / "static"
"""Folder to serve at ``/static``; the GraphiQL assets live in its ``graphiql/``."""

GRAPHIQL_DIR: Final[Path] = STATIC_DIR / "graphiql"
"""Folder holding the vendored GraphiQL assets."""

ASSETS: Final[dict[str, str]] = {
    "react.production.min.js": (
        "sha384-tMH8h3BGESGckSAVGZ82T9n90ztNXxvdwvdM6UoR56cYcf+0iGXBliJ29D+wZ/x8"
    ),
    "react-dom.production.min.js": (
        "sha384-bm7MnzvK++ykSwVJ2tynSE5TRdN+xL418osEVF2DE/L/gfWHj91J2Sphe582B1Bh"
    ),
    "graphiql.min.css": "sha384-Mq3vbRBY71jfjQAt/DcjxUIYY33ksal4cgdRt9U/hNPvHBCaT2JfJ/PTRiPKf0aM",
    "graphiql.min.js": "sha384-HbRVEFG0JGJZeAHCJ9Xm2+tpknBQ7QZmNlO/DgZtkZ0aJSypT96YYGRNod99l9Ie",
    "graphql-ws.min.js": "sha384-mxvR4Mzbsb6QVx/9xI2gtQikQA6m8zMDBFnu3l//4/ROsWt7y2sUGWd+/tYQqDm7",
}
"""Vendored asset file names mapped to their Subresource Integrity hashes.

The hashes are those of the published react@18.2.0, react-dom@18.2.0 and
graphiql@3.8.3 files (the same values Strawberry pins for its CDN copies) and of
graphql-ws@6.4.2's ``umd/graphql-ws.min.js``, so the browser refuses an asset
that is not byte-identical to the release.
"""

DEFAULT_QUERY: Final[str] = """\
# Welcome to the sessiongraph GraphQL playground.
#
# Run a query with Ctrl-Enter (or the play button); autocomplete with
# Ctrl-Space. The schema is browsable in the documentation panel.

{
  sessions(first: 10) {
    totalCount
    edges {
      node {
        sessionId
        title
        startedAt
        messageCount
      }
    }
  }
}
"""
"""Query shown in the editor on a first visit (GraphiQL keeps later edits)."""

TOKEN_STORAGE_KEY: Final[str] = "sessiongraph.token"  # noqa: S105 (a key name, not a secret)
"""``sessionStorage`` key of the bearer token (per tab, gone when the tab closes)."""

_TEMPLATES: Final = resources.files("graph") / "templates"
# The inline script that wires the token to GraphiQL (``__CONFIG__``: its settings), and
# the page around it (a ``str.format`` template); read once, at import.
_APP_SCRIPT: Final[str] = (_TEMPLATES / "graphiql.js").read_text(encoding="utf-8")
_PAGE_TEMPLATE: Final[str] = (_TEMPLATES / "graphiql.html").read_text(encoding="utf-8")

_CSP: Final[str] = (
    "default-src 'none'; "
    "script-src 'self' '{script_hash}'; "
    "style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; "
    "font-src 'self' data:; "
    "connect-src 'self'; "
    "base-uri 'none'; "
    "form-action 'none'"
)
"""Content Security Policy of the page: it may only talk to its own origin."""


def _js_literal(value: object) -> str:
    """Serialize a value as a JavaScript literal safe inside a ``<script>`` element.

    ``json.dumps`` gives a valid JavaScript expression (with ``ensure_ascii``,
    U+2028 and U+2029 are escaped too); ``<``, ``>`` and ``&`` are then
    replaced by their ``\\u`` escapes so that no value can close the script
    element or open an HTML comment. Those characters only occur inside JSON
    strings, where the escapes decode back to the same text.

    Args:
        value: A JSON-serializable value.

    Returns:
        The JavaScript source text of the value.
    """
    text = json.dumps(value, ensure_ascii=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _asset_url(static_prefix: str, name: str) -> str:
    """Build the HTML-attribute-escaped URL of a vendored asset.

    Args:
        static_prefix: URL path the assets are served under.
        name: File name of the asset inside :data:`GRAPHIQL_DIR`.

    Returns:
        The asset URL, escaped for use in a double-quoted HTML attribute.
    """
    return html.escape(f"{static_prefix.rstrip('/')}/{name}", quote=True)


def _script_tag(static_prefix: str, name: str) -> str:
    """Render the ``<script>`` element loading a vendored script.

    Args:
        static_prefix: URL path the assets are served under.
        name: File name of the script, a key of :data:`ASSETS`.

    Returns:
        The indented HTML element.
    """
    return (
        f'    <script src="{_asset_url(static_prefix, name)}" integrity="{ASSETS[name]}"></script>'
    )


def graphiql_html(
    endpoint: str = "/graphql", static_prefix: str = "/static/graphiql", token_hint: str = ""
) -> str:
    """Render the GraphiQL playground page, with no reference to external hosts.

    The page holds no secret, so it is served without authentication. It takes the
    bearer token from the URL fragment (``/graphql#token=...``, as printed by
    ``sessiongraph serve``; fragments are not sent to the server), keeps it in the
    tab's ``sessionStorage``, removes it from the address bar, and sends it as
    ``Authorization: Bearer ...`` with every request (unless the headers editor sets
    its own ``Authorization``). With no token, or when the server answers 401, it
    shows a login field above GraphiQL. A Content Security Policy restricts the page
    to its own origin.

    Args:
        endpoint: URL path on the same origin that the playground POSTs GraphQL
            requests to (the page's Content Security Policy allows no other origin).
        static_prefix: URL path where the files of :data:`GRAPHIQL_DIR` are
            served, e.g. ``/static/graphiql`` when :data:`STATIC_DIR` is
            mounted at ``/static``.
        token_hint: Where the token is kept, for the login banner (e.g. ``in
            ~/.config/sessiongraph/token``); not the token itself.

    Returns:
        The complete HTML document.
    """
    config = {
        "endpoint": endpoint,
        "defaultQuery": DEFAULT_QUERY,
        "storageKey": TOKEN_STORAGE_KEY,
        "tokenHint": token_hint,
    }
    app = _APP_SCRIPT.replace("__CONFIG__", _js_literal(config))
    script_hash = base64.b64encode(hashlib.sha256(app.encode("utf-8")).digest()).decode("ascii")
    stylesheet = (
        f'    <link rel="stylesheet"'
        f' href="{_asset_url(static_prefix, "graphiql.min.css")}"'
        f' integrity="{ASSETS["graphiql.min.css"]}">'
    )
    return _PAGE_TEMPLATE.format(
        # Single quotes are part of the policy's syntax; it has no double quote.
        csp=html.escape(_CSP.format(script_hash=f"sha256-{script_hash}"), quote=False),
        stylesheet=stylesheet,
        react=_script_tag(static_prefix, "react.production.min.js"),
        react_dom=_script_tag(static_prefix, "react-dom.production.min.js"),
        graphiql=_script_tag(static_prefix, "graphiql.min.js"),
        graphql_ws=_script_tag(static_prefix, "graphql-ws.min.js"),
        app=app,
    )
