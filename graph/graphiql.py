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
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Final

__all__ = [
    "ASSETS",
    "DEFAULT_QUERY",
    "GRAPHIQL_DIR",
    "STATIC_DIR",
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
}
"""Vendored asset file names mapped to their Subresource Integrity hashes.

The hashes are those of the published react@18.2.0, react-dom@18.2.0 and
graphiql@3.8.3 files (the same values Strawberry pins for its CDN copies), so
the browser refuses an asset that is not byte-identical to the release.
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

_PAGE_TEMPLATE: Final[str] = """\
<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>sessiongraph</title>
    <link rel="icon" href="data:,">
    <style>
      html, body {{ height: 100%; margin: 0; width: 100%; overflow: hidden; }}
      #graphiql {{ height: 100vh; display: flex; }}
    </style>
{stylesheet}
{react}
{react_dom}
  </head>
  <body>
    <div id="graphiql">Loading GraphiQL&hellip;</div>
    <noscript>The GraphiQL playground needs JavaScript.</noscript>
{graphiql}
    <script>
      (function () {{
        "use strict";
        var config = {config};
        var props = {{
          fetcher: GraphiQL.createFetcher({{ url: config.endpoint }}),
          defaultQuery: config.defaultQuery,
          isHeadersEditorEnabled: true,
          shouldPersistHeaders: false,
          inputValueDeprecation: true
        }};
        if (config.defaultHeaders !== null) {{
          props.defaultHeaders = config.defaultHeaders;
          props.defaultEditorToolsVisibility = "headers";
        }}
        var root = ReactDOM.createRoot(document.getElementById("graphiql"));
        root.render(React.createElement(GraphiQL, props));
      }})();
    </script>
  </body>
</html>
"""


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
    endpoint: str = "/graphql",
    static_prefix: str = "/static/graphiql",
    default_headers: str | None = None,
) -> str:
    """Render the GraphiQL playground page, with no reference to external hosts.

    Args:
        endpoint: URL (usually a path on the same origin) that the playground
            POSTs GraphQL requests to.
        static_prefix: URL path where the files of :data:`GRAPHIQL_DIR` are
            served, e.g. ``/static/graphiql`` when :data:`STATIC_DIR` is
            mounted at ``/static``.
        default_headers: Text prefilled in the headers editor, normally a JSON
            object such as ``'{"Authorization": "Bearer ..."}'``. ``None``
            leaves the headers editor empty. It is not persisted in the
            browser's storage.

    Returns:
        The complete HTML document.
    """
    config = {
        "endpoint": endpoint,
        "defaultQuery": DEFAULT_QUERY,
        "defaultHeaders": default_headers,
    }
    stylesheet = (
        f'    <link rel="stylesheet"'
        f' href="{_asset_url(static_prefix, "graphiql.min.css")}"'
        f' integrity="{ASSETS["graphiql.min.css"]}">'
    )
    return _PAGE_TEMPLATE.format(
        stylesheet=stylesheet,
        react=_script_tag(static_prefix, "react.production.min.js"),
        react_dom=_script_tag(static_prefix, "react-dom.production.min.js"),
        graphiql=_script_tag(static_prefix, "graphiql.min.js"),
        config=_js_literal(config),
    )
