"""GraphiQL in a real browser: headless Chromium, no network but the server, a bearer token.

The module starts ``sessiongraph serve`` (with ``SESSIONGRAPH_TOKEN``) on a database
holding the bundled demo sessions and drives Debian's ``chromium`` through
``chromedriver``. Every host but 127.0.0.1 is unreachable from the browser: names
resolve to nothing (``--host-resolver-rules``) and everything else, IP literals
included, goes through a proxy on a closed port (``--proxy-server=127.0.0.1:9``).
:func:`test_outside_network_is_blocked` proves that the blocking works.

These tests are never skipped: without Chromium they fail and say to run
``make browser-deps``.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

try:
    from selenium import webdriver
    from selenium.common.exceptions import TimeoutException, WebDriverException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.chromium.webdriver import ChromiumDriver as WebDriver
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:  # pragma: no cover - reported by the `browser` fixture
    webdriver = None  # type: ignore[assignment]

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
TOKEN = "sg-test-" + secrets.token_urlsafe(24)
WAIT_SECONDS = 10.0
STATS_QUERY = "{ stats { sessions } }"

T = TypeVar("T")

# Counts the GraphQL responses the page receives (schema introspection aside) and
# keeps their statuses, so a test can wait for the answer to *its* request.
_TRACK_RESPONSES = """
window.__sgStatuses = [];
const realFetch = window.fetch;
window.fetch = function (input, init) {
  const body = (init && typeof init.body === "string") ? init.body : "";
  return realFetch.apply(this, arguments).then(function (response) {
    if (!body.includes('"operationName":"IntrospectionQuery"')) {
      window.__sgStatuses.push(response.status);
    }
    return response;
  });
};
"""

_CODEMIRROR = "return document.querySelector(arguments[0]).CodeMirror"


@dataclass(frozen=True)
class Server:
    origin: str
    sessions: int
    log: Path
    db: Path
    env: dict[str, str]

    @property
    def graphql(self) -> str:
        return f"{self.origin}/graphql"

    def log_tail(self, lines: int = 30) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _post(url: str, query: str, token: str | None) -> tuple[int, dict[str, Any]]:
    headers = {"content-type": "application/json", "accept": "application/json"}
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    request = urllib.request.Request(
        url, data=json.dumps({"query": query}).encode(), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read() or b"{}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``sessiongraph serve`` on the demo sessions, with ``SESSIONGRAPH_TOKEN`` set."""
    tmp = tmp_path_factory.mktemp("browser-server")
    db = tmp / "sessiongraph.db"
    env = {
        **os.environ,
        "SESSIONGRAPH_TOKEN": TOKEN,
        # Keep a generated token or any other state out of the developer's home.
        "HOME": str(tmp / "home"),
        "XDG_CONFIG_HOME": str(tmp / "config"),
        "XDG_DATA_HOME": str(tmp / "data"),
    }
    env.pop("SESSIONGRAPH_DB", None)
    demo = subprocess.run(
        [sys.executable, "-m", "graph", "demo", "--db", str(db)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert demo.returncode == 0, f"`sessiongraph demo` failed:\n{demo.stdout}\n{demo.stderr}"

    with _serving(db, env, tmp / "server.log") as (origin, _):
        status, body = _post(f"{origin}/graphql", STATS_QUERY, TOKEN)
        assert status == 200, (status, body)
        sessions = body["data"]["stats"]["sessions"]
        assert sessions > 0, "the demo import left the database empty"
        yield Server(origin=origin, sessions=sessions, log=tmp / "server.log", db=db, env=env)


@contextlib.contextmanager
def _serving(db: Path, env: dict[str, str], log: Path) -> Iterator[tuple[str, list[str]]]:
    """``sessiongraph serve`` on a free port until the block ends: its origin, once it
    answers /healthz, and its banner's lines."""
    port = _free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "graph", "serve", "--db", str(db), "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"`sessiongraph serve` did not start:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        banner = [line for line in log.read_text().splitlines() if line.startswith("sessiongraph:")]
        yield f"http://127.0.0.1:{port}", banner
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Browser:
    """A Chromium session, with the console messages it logged so far."""

    driver: WebDriver
    server: Server | None = None
    console: list[dict[str, Any]] = field(default_factory=list, repr=False)
    network: list[dict[str, Any]] = field(default_factory=list, repr=False)

    def collect_logs(self) -> None:
        # selenium's get_log is untyped; the logs are lists of dicts.
        get_log: Callable[[str], list[dict[str, Any]]] = self.driver.get_log
        self.console.extend(get_log("browser"))
        for entry in get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message["method"].startswith("Network."):
                self.network.append(message)

    def report(self) -> str:
        """What a failing test prints: console, page state and the server's log."""
        try:
            self.collect_logs()
        except WebDriverException as exc:
            return f"(no browser logs: {exc.msg})"
        lines = ["browser console:"]
        lines += [f"  {e['level']} {e['message']}" for e in self.console] or ["  (empty)"]
        try:
            lines.append(f"location: {self.driver.current_url}")
            state = self.driver.execute_script(
                """
                const login = document.getElementById("sg-login");
                const response = document.querySelector(".graphiql-response .CodeMirror");
                return {
                  login: login ? (login.hidden ? "hidden" : login.innerText) : "absent",
                  response: response ? response.CodeMirror.getValue() : "absent",
                  statuses: window.__sgStatuses || null,
                };
                """
            )
            lines.append(f"page: {json.dumps(state, indent=2)}")
        except WebDriverException as exc:
            lines.append(f"(no page state: {exc.msg})")
        if self.server is not None:
            lines.append(f"server log (tail):\n{self.server.log_tail()}")
        return "\n".join(lines)

    def wait(self, condition: Callable[[WebDriver], T], what: str) -> T:
        try:
            result: T = WebDriverWait(self.driver, WAIT_SECONDS).until(condition)
        except TimeoutException:
            pytest.fail(f"timed out after {WAIT_SECONDS}s waiting for {what}\n{self.report()}")
        return result

    def open_graphiql(self, url: str) -> None:
        self.driver.get(url)
        self.wait(
            lambda d: d.execute_script(
                "return !!document.querySelector('.graphiql-query-editor .CodeMirror')"
                " && !!document.querySelector('.graphiql-execute-button')"
            ),
            f"GraphiQL to render at {url}",
        )
        self.driver.execute_script(_TRACK_RESPONSES)

    def set_query(self, query: str) -> None:
        """Put ``query`` in the query editor, and wait until GraphiQL has taken it: it
        reads an edit into its state a moment later (and stores it then), and the run
        button pressed before that runs the query it had."""
        self.driver.execute_script(
            _CODEMIRROR + ".setValue(arguments[1])", ".graphiql-query-editor .CodeMirror", query
        )
        self.wait(
            lambda d: d.execute_script("return localStorage.getItem('graphiql:query')") == query,
            "GraphiQL to take the edited query",
        )

    def statuses(self) -> list[int]:
        """HTTP statuses of the GraphQL answers so far (see ``_TRACK_RESPONSES``)."""
        statuses: list[int] = self.driver.execute_script("return window.__sgStatuses")
        return statuses

    def run_query(self, query: str) -> int:
        """Put ``query`` in the editor, press the run button; the response's HTTP status."""
        before = len(self.statuses())
        self.set_query(query)
        self.driver.find_element(By.CSS_SELECTOR, ".graphiql-execute-button").click()
        self.wait(lambda d: len(self.statuses()) > before, f"an answer to {query!r}")
        return self.statuses()[before]

    def response_text(self) -> str:
        """What GraphiQL's result pane shows."""
        text: str | None = self.driver.execute_script(
            _CODEMIRROR + ".getValue()", ".graphiql-response .CodeMirror"
        )
        return text or ""

    def wait_for_response(self, predicate: Callable[[str], bool], what: str) -> str:
        self.wait(lambda d: predicate(self.response_text()), f"the result pane to show {what}")
        return self.response_text()

    def start_subscription(self, query: str) -> None:
        """Run ``query`` (a subscription) and wait until the server has it over the socket."""
        self.set_query(query)
        self.driver.find_element(By.CSS_SELECTOR, ".graphiql-execute-button").click()
        self.wait(lambda d: '"type":"subscribe"' in self.ws_frames("Sent"), "the subscribe frame")

    def ws_frames(self, direction: str) -> str:
        """Payloads of the WebSocket frames ``Sent`` or ``Received`` so far, one a line."""
        self.collect_logs()
        return "\n".join(
            m["params"]["response"]["payloadData"]
            for m in self.network
            if m["method"] == f"Network.webSocketFrame{direction}"
        )

    def login_state(self) -> tuple[bool, str]:
        login = self.driver.find_element(By.ID, "sg-login")
        return login.is_displayed(), login.text

    def set_headers(self, text: str) -> None:
        """Type ``text`` in GraphiQL's headers editor (opening its tab)."""
        self.driver.find_element(
            By.CSS_SELECTOR, ".graphiql-editor-tools button[data-name=headers]"
        ).click()
        selector = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror"
        self.wait(
            lambda d: d.execute_script(
                "const el = document.querySelector(arguments[0]);"
                "return !!el && el.closest('.graphiql-editor').offsetParent !== null;",
                selector,
            ),
            "the headers editor to open",
        )
        self.driver.execute_script(_CODEMIRROR + ".setValue(arguments[1])", selector, text)

    def page_requests(self) -> list[dict[str, Any]]:
        """``Network.requestWillBeSent`` params of the requests made so far."""
        self.collect_logs()
        return [m["params"] for m in self.network if m["method"] == "Network.requestWillBeSent"]


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    """Headless Chromium that can reach 127.0.0.1 and nothing else, started once for the
    module (a start costs a second of CPU; each test gets a tab of its own)."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:
        pytest.fail(
            f"{' and '.join(missing)} not found: run `make browser-deps` (installs Debian's"
            " chromium and chromium-driver) before the browser tests"
        )
    if webdriver is None:
        pytest.fail("selenium is not installed: run `make install` (it is a dev dependency)")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--window-size=1280,900",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium') / 'profile'}",
        # The offline part: no name resolves but 127.0.0.1, and every connection other
        # than to 127.0.0.1 (IP literals too) goes to a proxy on a closed port.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--proxy-server=127.0.0.1:9",
        "--proxy-bypass-list=127.0.0.1",
        "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    try:
        driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    except WebDriverException as exc:
        pytest.fail(f"cannot start {CHROMIUM} through {CHROMEDRIVER}: {exc.msg}")
    driver.set_page_load_timeout(15)
    driver.set_script_timeout(10)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def browser(chromium: WebDriver) -> Iterator[Browser]:
    """A new tab of the module's Chromium, as a new browser would be: its own
    sessionStorage (where the page keeps the token), no logs of an earlier test, and no
    storage left by one on any origin it opened."""
    chromium.switch_to.new_window("tab")
    tab = chromium.current_window_handle
    for handle in chromium.window_handles:
        if handle != tab:
            chromium.switch_to.window(handle)
            chromium.close()
    chromium.switch_to.window(tab)
    get_log: Callable[[str], list[dict[str, Any]]] = chromium.get_log  # untyped in selenium
    for kind in ("browser", "performance"):  # what earlier tests left unread
        get_log(kind)
    browser = Browser(chromium)
    try:
        yield browser
    finally:
        with contextlib.suppress(WebDriverException):
            browser.collect_logs()
            origins = {
                origin
                for request in browser.page_requests()
                if (origin := _origin(request["request"]["url"]))
            }
            for origin in origins:
                chromium.execute_cdp_cmd(
                    "Storage.clearDataForOrigin", {"origin": origin, "storageTypes": "all"}
                )


def _origin(url: str) -> str | None:
    """``scheme://host:port`` of an http(s) URL, else None."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") else None


def _severe(browser: Browser) -> list[str]:
    browser.collect_logs()
    return [e["message"] for e in browser.console if e["level"] == "SEVERE"]


def test_graphiql_runs_a_query_offline_with_the_token_from_the_url(
    server: Server, browser: Browser
) -> None:
    browser.server = server
    browser.open_graphiql(f"{server.graphql}#token={TOKEN}")

    # The token left the address bar for this tab's sessionStorage; no login field.
    href, stored = browser.driver.execute_script(
        "return [location.href, sessionStorage.getItem('sessiongraph.token')]"
    )
    assert href == server.graphql, "the token was not removed from the address bar"
    assert stored == TOKEN
    assert browser.login_state()[0] is False, f"login field shown\n{browser.report()}"

    status = browser.run_query(STATS_QUERY)
    text = browser.wait_for_response(lambda t: '"sessions"' in t, "the session count")
    assert status == 200, f"HTTP {status}: {text}\n{browser.report()}"
    assert json.loads(text) == {"data": {"stats": {"sessions": server.sessions}}}

    # Every request went to the server (nothing else could have answered), the GraphQL
    # ones with the token in the Authorization header and never in a URL.
    requests = [
        r for r in browser.page_requests() if r.get("documentURL", "").startswith(server.origin)
    ]
    urls = [r["request"]["url"] for r in requests]
    outside = [url for url in urls if not url.startswith((f"{server.origin}/", "data:"))]
    assert not outside, f"the page asked for more than the server: {outside}"
    assert f"{server.origin}/static/graphiql/graphiql.min.js" in urls
    posts = [r["request"] for r in requests if r["request"]["method"] == "POST"]
    assert posts, "no GraphQL request seen"
    for request in posts:
        assert request["url"] == server.graphql
        headers = {k.lower(): v for k, v in request["headers"].items()}
        assert headers.get("authorization") == f"Bearer {TOKEN}", request
    assert not [url for url in urls if TOKEN in url]
    assert not _severe(browser), browser.report()


def test_login_field_without_a_token(server: Server, browser: Browser) -> None:
    browser.server = server
    status, body = _post(server.graphql, STATS_QUERY, None)
    assert status == 401, (
        "the server answers GraphQL requests without the token (is bearer auth wired into"
        f" `sessiongraph serve` with SESSIONGRAPH_TOKEN?): {status} {body}"
    )
    browser.open_graphiql(server.graphql)

    browser.wait(lambda d: browser.login_state()[0], "the login field to show")
    token_input = browser.driver.find_element(By.ID, "sg-token")
    assert token_input.get_attribute("placeholder") == "Paste your sessiongraph token"
    assert token_input.get_attribute("type") == "password"

    # Without a token: the server's 401 and its UNAUTHENTICATED error are shown.
    assert browser.run_query(STATS_QUERY) == 401
    text = browser.wait_for_response(lambda t: "UNAUTHENTICATED" in t, "UNAUTHENTICATED")
    assert "data" not in json.loads(text), text
    shown, message = browser.login_state()
    assert shown, browser.report()
    assert "401" in message, message
    # It says how to get a link that signs in, and where the token is.
    assert "Run `sessiongraph token` in a terminal and open the link it prints" in message
    assert "(the token is in $SESSIONGRAPH_TOKEN)" in message, message

    # A wrong token is refused (already by the schema fetch that follows the login).
    token_input.send_keys("not-the-token-0123456789")
    browser.driver.find_element(By.CSS_SELECTOR, "#sg-login button[type=submit]").click()
    assert browser.run_query(STATS_QUERY) == 401
    browser.wait(
        lambda d: "refused" in browser.login_state()[1], "the login field to say it was refused"
    )
    assert browser.login_state()[0], browser.report()

    # The right one works, and is kept for the tab.
    token_input.clear()
    token_input.send_keys(TOKEN + Keys.ENTER)
    browser.wait(lambda d: not browser.login_state()[0], "the login field to hide")
    assert browser.driver.execute_script("return sessionStorage.getItem('sessiongraph.token')")
    assert browser.run_query(STATS_QUERY) == 200
    text = browser.wait_for_response(lambda t: '"sessions"' in t, "the session count")
    assert json.loads(text) == {"data": {"stats": {"sessions": server.sessions}}}
    assert browser.driver.current_url == server.graphql


def test_headers_editor_authorization_wins(server: Server, browser: Browser) -> None:
    browser.server = server
    browser.open_graphiql(f"{server.graphql}#token={TOKEN}")

    browser.set_headers('{"Authorization": "Bearer wrong-token-0123456789"}')
    assert browser.run_query(STATS_QUERY) == 401, browser.report()
    browser.wait_for_response(lambda t: "UNAUTHENTICATED" in t, "UNAUTHENTICATED")
    browser.wait(lambda d: browser.login_state()[0], "the login field to show")
    assert "headers editor" in browser.login_state()[1], browser.report()

    browser.set_headers("{}")
    assert browser.run_query(STATS_QUERY) == 200, browser.report()
    text = browser.wait_for_response(lambda t: '"sessions"' in t, "the session count")
    assert json.loads(text)["data"]["stats"]["sessions"] == server.sessions


def test_outside_network_is_blocked(browser: Browser) -> None:
    """Negative control: the browser's flags really cut it off from other hosts.

    A page (a ``data:`` URL, so no Content Security Policy of ours is involved)
    loads images and fetches from a host name and from IP literals; each fails at
    the dead proxy, and navigating to an outside page fails too.
    """
    outside = [
        "http://example.com/pixel.png",
        "https://cdn.jsdelivr.net/npm/graphiql@3.8.3/graphiql.min.js",
        "http://93.184.215.14/pixel.png",
        "https://1.1.1.1/",
    ]
    images = "".join(f'<img src="{url}">' for url in outside)
    browser.driver.get(f"data:text/html,<title>control</title>{images}")
    results = browser.driver.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        Promise.allSettled(arguments[0].map((u) => fetch(u, { mode: "no-cors" })))
          .then((all) => done(all.map((r) => r.status)));
        """,
        outside,
    )
    assert results == ["rejected"] * len(outside), (results, browser.report())

    failures: dict[str, str] = {}
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        browser.collect_logs()
        url_of = {
            m["params"]["requestId"]: m["params"]["request"]["url"]
            for m in browser.network
            if m["method"] == "Network.requestWillBeSent"
        }
        failures = {
            url_of.get(m["params"]["requestId"], "?"): m["params"]["errorText"]
            for m in browser.network
            if m["method"] == "Network.loadingFailed"
        }
        if all(url in failures for url in outside):
            break
        time.sleep(0.1)
    for url in outside:
        # The error names the proxy: the flags blocked it, not a missing route.
        assert failures.get(url) == "net::ERR_PROXY_CONNECTION_FAILED", (url, failures)

    with pytest.raises(WebDriverException, match="ERR_PROXY_CONNECTION_FAILED"):
        browser.driver.get("http://example.com/")


def test_page_is_served_without_auth_and_holds_no_secret(server: Server) -> None:
    request = urllib.request.Request(server.graphql, headers={"accept": "text/html"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        page = response.read().decode()
    assert "GraphiQL" in page
    assert TOKEN not in page


def _session_lines(session_id: str, count: int) -> str:
    """``count`` user prompts of a new Claude Code session, as JSONL."""
    return "".join(
        json.dumps(
            {
                "type": "user",
                "sessionId": session_id,
                "uuid": f"{session_id}-{n}",
                "timestamp": f"2026-03-01T10:00:{n:02d}.000Z",
                "cwd": "/tmp/browser-test",
                "message": {"role": "user", "content": f"prompt {n} from the browser test"},
            }
        )
        + "\n"
        for n in range(count)
    )


def _import(server: Server, path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "graph", "import", "--db", str(server.db), str(path)],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_graphiql_runs_a_subscription_that_shows_what_an_import_writes(
    server: Server, browser: Browser, tmp_path: Path
) -> None:
    """Item 1 of issue 14: a subscription in GraphiQL, over the vendored graphql-ws."""
    browser.server = server
    browser.open_graphiql(f"{server.graphql}#token={TOKEN}")
    browser.start_subscription("subscription { sessionsChanged { sessionId messageCount } }")
    # The socket signed in with the token in connection_init, and the server accepted it.
    sent, received = browser.ws_frames("Sent"), browser.ws_frames("Received")
    assert f'"type":"connection_init","payload":{{"authorization":"Bearer {TOKEN}"}}' in sent
    assert '"type":"connection_ack"' in received, received

    session_id = "b0b0b0b0-" + secrets.token_hex(4) + "-4000-8000-000000000001"
    transcript = tmp_path / "projects" / "-tmp-browser-test" / f"{session_id}.jsonl"
    transcript.parent.mkdir(parents=True)
    # The subscription is live once its subscribe frame is processed; a session written
    # before that is not replayed, so each import appends a line until one shows.
    for count in range(1, 6):
        transcript.write_text(_session_lines(session_id, count))
        _import(server, transcript)
        try:
            WebDriverWait(browser.driver, WAIT_SECONDS / 2).until(
                lambda d: session_id in browser.response_text()
            )
            break
        except TimeoutException:
            continue
    text = browser.response_text()
    assert session_id in text, f"{text}\n{browser.report()}"
    assert json.loads(text)["data"]["sessionsChanged"]["sessionId"] == session_id
    assert "createFetcher is not properly configured" not in text
    assert not _severe(browser), browser.report()


def test_a_subscription_with_a_wrong_token_brings_the_login_field_back(
    server: Server, browser: Browser
) -> None:
    browser.server = server
    browser.open_graphiql(f"{server.graphql}#token=wrong-token-0123456789")
    browser.set_query("subscription { sessionsChanged { sessionId } }")
    browser.driver.find_element(By.CSS_SELECTOR, ".graphiql-execute-button").click()
    browser.wait(lambda d: "4401" in browser.login_state()[1], "the login field to say 4401")
    shown, message = browser.login_state()
    assert shown, browser.report()
    assert "sessiongraph token" in message, message


def test_the_link_printed_at_every_start_signs_graphiql_in(
    browser: Browser, tmp_path: Path
) -> None:
    """Item 2 of issue 14: the token file's link, shown by every start, not only the first."""
    env = {
        **os.environ,
        "HOME": str(tmp_path / "home"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
    }
    env.pop("SESSIONGRAPH_TOKEN", None)
    db = tmp_path / "sessiongraph.db"
    banners = []
    for start in ("first", "second"):
        with _serving(db, env, tmp_path / f"{start}.log") as (_, banner):
            banners.append(banner)
            # The last line is the URL to open, with the token.
            link = banner[-1].removeprefix("sessiongraph: open ")
            assert link.startswith("http://127.0.0.1:"), banner
            origin, _, fragment = link.partition("/graphql#token=")
            token = (tmp_path / "config" / "sessiongraph" / "token").read_text().strip()
            assert fragment == token, banner
            if start == "second":
                browser.open_graphiql(link)
                assert browser.login_state()[0] is False, browser.report()
                assert browser.run_query(STATS_QUERY) == 200, browser.report()
                text = browser.wait_for_response(lambda t: '"sessions"' in t, "the count")
                assert json.loads(text) == {"data": {"stats": {"sessions": 0}}}
                assert browser.driver.current_url == f"{origin}/graphql"
    assert "new, saved to" in banners[0][1], banners[0]
    assert "new" not in banners[1][1], banners[1]
    assert not any("<your token>" in line for banner in banners for line in banner)


def test_the_root_url_leads_to_graphiql(server: Server, browser: Browser) -> None:
    """Item 3 of issue 14: `/` redirects to /graphql, and the token fragment goes along."""
    browser.server = server
    browser.open_graphiql(f"{server.origin}/#token={TOKEN}")
    assert browser.driver.current_url == server.graphql
    assert browser.login_state()[0] is False, browser.report()
    assert browser.run_query(STATS_QUERY) == 200, browser.report()
