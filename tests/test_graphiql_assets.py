"""Tests for the offline GraphiQL page and its vendored assets."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html.parser import HTMLParser

import pytest

from graph.graphiql import (
    ASSETS,
    DEFAULT_QUERY,
    GRAPHIQL_DIR,
    STATIC_DIR,
    TOKEN_STORAGE_KEY,
    graphiql_html,
)

LICENSES = ("LICENSE.react", "LICENSE.react-dom", "LICENSE.graphiql", "LICENSE.graphql-ws")


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


def _csp(page: str) -> dict[str, list[str]]:
    """The page's Content Security Policy, directive name to values."""
    match = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', page)
    assert match is not None
    policy: dict[str, list[str]] = {}
    for directive in match.group(1).split(";"):
        name, *values = directive.split()
        policy[name] = values
    return policy


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
    page = graphiql_html()
    assert "http://" not in page
    assert "https://" not in page
    for _, url, _ in _parse(page).refs:
        assert url.startswith(("/", "data:")), url
        assert not url.startswith("//"), url


def test_page_renders_graphiql() -> None:
    page = graphiql_html()
    assert "<title>sessiongraph</title>" in page
    assert "url: config.endpoint, fetch: authFetch, wsClient: wsClient" in page
    assert "isHeadersEditorEnabled: true" in page
    assert "ReactDOM.createRoot" in page
    assert 'id="graphiql"' in page
    # Scripts load in dependency order: React, ReactDOM, GraphiQL, graphql-ws, the app.
    names = ("react.production", "react-dom.production", "graphiql.min.js", "graphql-ws.min.js")
    order = [page.index(name) for name in names]
    assert order == sorted(order)
    assert page.index("graphql-ws.min.js") < page.index("ReactDOM.createRoot")


def test_subscriptions_go_over_a_websocket_with_the_token_in_connection_init() -> None:
    (script,) = _parse(graphiql_html()).scripts
    assert "graphqlWs.createClient({" in script
    assert 'url: scheme + "//" + window.location.host + config.endpoint' in script
    # Read when the socket opens, so a token pasted later is the one sent.
    assert "connectionParams: function () {" in script
    assert 'return token ? { authorization: "Bearer " + token } : {};' in script
    assert "event.code === 4401" in script
    assert "wsClient.dispose()" in script


def test_graphql_ws_is_the_pinned_release() -> None:
    versions = dict(line.split() for line in (GRAPHIQL_DIR / "VERSIONS").read_text().splitlines())
    assert versions["graphql-ws"] == "6.4.2"
    text = (GRAPHIQL_DIR / "graphql-ws.min.js").read_text(encoding="utf-8")
    assert "graphql-transport-ws" in text  # the protocol the server speaks
    assert ".graphqlWs=" in text  # the UMD global the page uses


def test_config_defaults() -> None:
    config = _config(graphiql_html())
    assert config == {
        "endpoint": "/graphql",
        "defaultQuery": DEFAULT_QUERY,
        "storageKey": TOKEN_STORAGE_KEY,
        "tokenHint": "",
    }
    assert "sessions(first: 10)" in DEFAULT_QUERY


def test_login_banner_says_where_the_token_is_and_how_to_get_the_link() -> None:
    page = graphiql_html(token_hint="in ~/.config/sessiongraph/token")
    assert _config(page)["tokenHint"] == "in ~/.config/sessiongraph/token"
    (script,) = _parse(page).scripts
    assert "Run `sessiongraph token` in a terminal and open the link it prints" in script
    assert '" (the token is " + config.tokenHint + ")"' in script


def test_config_custom_endpoint() -> None:
    assert _config(graphiql_html(endpoint="/api/graphql"))["endpoint"] == "/api/graphql"


def test_page_holds_no_token_and_takes_it_from_the_fragment() -> None:
    page = graphiql_html()
    (script,) = _parse(page).scripts
    # The token comes from the URL fragment (never sent to the server), goes to this
    # tab's sessionStorage, and leaves the address bar.
    assert "window.location.hash" in script
    assert "sessionStorage.setItem(config.storageKey, token)" in script
    assert "window.history.replaceState(" in script
    assert "localStorage" not in script
    # Sent as a bearer header unless the headers editor sets its own.
    assert 'var fromEditor = headers.has("authorization");' in script
    assert 'headers.set("authorization", "Bearer " + token)' in script
    # Nothing in the page is a credential: no Authorization value, no prefilled headers.
    assert "defaultHeaders" not in script
    assert not re.search(r"Bearer [A-Za-z0-9_-]{8,}", page)


def test_login_field() -> None:
    page = graphiql_html()
    assert '<form id="sg-login" hidden autocomplete="off">' in page
    assert 'placeholder="Paste your sessiongraph token"' in page
    assert 'type="password"' in page
    (script,) = _parse(page).scripts
    assert "response.status === 401" in script
    assert "event.preventDefault()" in script
    # The form never submits anywhere: the token cannot end up in a URL.
    assert _csp(page)["form-action"] == ["'none'"]


def test_content_security_policy_allows_only_the_page_itself() -> None:
    page = graphiql_html()
    policy = _csp(page)
    assert policy["default-src"] == ["'none'"]
    assert policy["connect-src"] == ["'self'"]
    assert policy["base-uri"] == ["'none'"]
    for directive in ("style-src", "img-src", "font-src"):
        assert all(v in ("'self'", "'unsafe-inline'", "data:") for v in policy[directive])
    # Scripts: the vendored files, and the inline one by its hash only.
    (script,) = _parse(page).scripts
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert policy["script-src"] == ["'self'", f"'sha256-{digest}'"]


@pytest.mark.parametrize("endpoint", ["/graphql", "/other", "/x</script>"])
def test_script_hash_follows_the_config(endpoint: str) -> None:
    page = graphiql_html(endpoint=endpoint)
    (script,) = _parse(page).scripts
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in _csp(page)["script-src"]


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
    page = graphiql_html(endpoint=value)
    (script,) = _parse(page).scripts
    assert "<" not in script  # so nothing can end the script or open a comment in it
    for raw in ("\u2028", "\u2029"):
        if raw in value:
            assert raw not in script, raw
    config_text = re.search(r"var config = (\{.*?\});\n", script)
    assert config_text is not None
    for raw in ("&", ">", "<"):
        if raw in value:
            assert raw not in config_text.group(1), raw
    assert page.count("</script>") == 5  # four asset scripts plus the inline one
    assert _config(page)["endpoint"] == value


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
