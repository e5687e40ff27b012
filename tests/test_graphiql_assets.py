"""Tests for the offline GraphiQL page and its vendored assets."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html.parser import HTMLParser

import pytest

from graph.graphiql import ASSETS, DEFAULT_QUERY, GRAPHIQL_DIR, STATIC_DIR, graphiql_html

LICENSES = ("LICENSE.react", "LICENSE.react-dom", "LICENSE.graphiql")


class _Refs(HTMLParser):
    """Collects the URL-valued attributes and inline scripts of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str, str | None]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        for name in ("src", "href"):
            value = attributes.get(name)
            if value is not None:
                self.refs.append((tag, value, attributes.get("integrity")))
        if tag == "script" and "src" not in attributes:
            self._in_script = True
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data


def _parse(page: str) -> _Refs:
    parser = _Refs()
    parser.feed(page)
    parser.close()
    return parser


def _config(page: str) -> dict[str, object]:
    """Decode the ``var config = {...};`` literal of the page's inline script."""
    (script,) = _parse(page).scripts
    match = re.search(r"var config = (\{.*?\});\n", script)
    assert match is not None
    decoded: dict[str, object] = json.loads(match.group(1))
    return decoded


def _sri(path_bytes: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(path_bytes).digest()).decode()


def test_static_dir_layout() -> None:
    assert STATIC_DIR.name == "static"
    assert STATIC_DIR.parent.name == "graph"
    assert GRAPHIQL_DIR == STATIC_DIR / "graphiql"
    for name in (*ASSETS, *LICENSES):
        assert (GRAPHIQL_DIR / name).is_file(), name


def test_vendored_assets_match_pinned_hashes() -> None:
    for name, integrity in ASSETS.items():
        assert _sri((GRAPHIQL_DIR / name).read_bytes()) == integrity, name


def test_vendored_assets_size_is_reasonable() -> None:
    total = sum(p.stat().st_size for p in GRAPHIQL_DIR.iterdir() if p.is_file())
    assert total < 8 * 1024 * 1024


def test_stylesheet_fetches_nothing_external() -> None:
    css = (GRAPHIQL_DIR / "graphiql.min.css").read_text(encoding="utf-8")
    assert "@import" not in css
    urls = re.findall(r"url\(\s*['\"]?([^'\")]*)", css)
    assert urls, "expected the inlined fonts and images"
    assert all(url.startswith("data:") for url in urls), urls


@pytest.mark.parametrize("static_prefix", ["/static/graphiql", "/sg/assets/", "/x"])
def test_every_referenced_asset_exists(static_prefix: str) -> None:
    refs = _parse(graphiql_html(static_prefix=static_prefix)).refs
    local = [(url, integrity) for _, url, integrity in refs if not url.startswith("data:")]
    prefix = static_prefix.rstrip("/") + "/"
    assert sorted(url.removeprefix(prefix) for url, _ in local) == sorted(ASSETS)
    for url, integrity in local:
        assert url.startswith(prefix), url
        name = url.removeprefix(prefix)
        path = GRAPHIQL_DIR / name
        assert path.is_file(), url
        assert integrity == ASSETS[name]


def test_page_references_no_external_url() -> None:
    page = graphiql_html(default_headers='{"Authorization": "Bearer abc"}')
    assert "http://" not in page
    assert "https://" not in page
    for _, url, _ in _parse(page).refs:
        assert url.startswith(("/", "data:")), url
        assert not url.startswith("//"), url


def test_page_renders_graphiql() -> None:
    page = graphiql_html()
    assert "<title>sessiongraph</title>" in page
    assert "GraphiQL.createFetcher({ url: config.endpoint })" in page
    assert "isHeadersEditorEnabled: true" in page
    assert "ReactDOM.createRoot" in page
    assert 'id="graphiql"' in page
    # Scripts load in dependency order: React, ReactDOM, GraphiQL, then the app.
    order = [
        page.index(name) for name in ("react.production", "react-dom.production", "graphiql.min.js")
    ]
    assert order == sorted(order)
    assert page.index("graphiql.min.js") < page.index("ReactDOM.createRoot")


def test_config_defaults() -> None:
    config = _config(graphiql_html())
    assert config == {
        "endpoint": "/graphql",
        "defaultQuery": DEFAULT_QUERY,
        "defaultHeaders": None,
    }
    assert "sessions(first: 10)" in DEFAULT_QUERY


def test_config_custom_values() -> None:
    headers = '{"Authorization": "Bearer tok"}'
    config = _config(graphiql_html(endpoint="/api/graphql", default_headers=headers))
    assert config["endpoint"] == "/api/graphql"
    assert config["defaultHeaders"] == headers


@pytest.mark.parametrize(
    "value",
    [
        '{"X": "</script><script>alert(1)</script>"}',
        "<!-- <script>",
        "a & b > c",
        "line\u2028separator\u2029",
        "quote \" back\\slash ' `tick` ${x}",
    ],
)
def test_values_are_escaped(value: str) -> None:
    page = graphiql_html(endpoint=value, default_headers=value)
    (script,) = _parse(page).scripts
    for raw in ("</script", "<!--", "<script", "&", ">", "\u2028", "\u2029"):
        if raw in value:
            assert raw not in script, raw
    assert page.count("</script>") == 4  # three asset scripts plus the inline one
    config = _config(page)
    assert config["endpoint"] == value
    assert config["defaultHeaders"] == value


def test_static_prefix_is_attribute_escaped() -> None:
    page = graphiql_html(static_prefix='/a"><script>x</script>')
    assert '"><script>x' not in page
    assert "/a&quot;&gt;&lt;script&gt;x&lt;/script&gt;/graphiql.min.js" in page


def test_assets_served_by_static_files_mount() -> None:
    pytest.importorskip("httpx")
    testclient = pytest.importorskip("starlette.testclient")
    from starlette.applications import Starlette
    from starlette.routing import Mount
    from starlette.staticfiles import StaticFiles

    app = Starlette(routes=[Mount("/static", app=StaticFiles(directory=STATIC_DIR))])
    with testclient.TestClient(app) as client:
        for _, url, integrity in _parse(graphiql_html()).refs:
            if url.startswith("data:"):
                continue
            response = client.get(url)
            assert response.status_code == 200, url
            assert _sri(response.content) == integrity
