(function () {
  "use strict";
  var config = __CONFIG__;
  var memoryToken = null;  // used when sessionStorage is unavailable

  function readToken() {
    try {
      return window.sessionStorage.getItem(config.storageKey) || memoryToken;
    } catch (e) {
      return memoryToken;
    }
  }

  function storeToken(token) {
    memoryToken = token;
    try {
      window.sessionStorage.setItem(config.storageKey, token);
    } catch (e) {
      // Private modes may refuse storage: the token then lives until the page closes.
    }
  }

  // `sessiongraph serve` prints .../graphql#token=...: the fragment never reaches the
  // server (nor its logs); it is read here, kept in this tab's sessionStorage and
  // removed from the address bar and the history entry.
  function takeTokenFromFragment() {
    var hash = window.location.hash.replace(/^#/, "");
    var token = null;
    var rest = [];
    hash.split("&").forEach(function (part) {
      if (part.indexOf("token=") === 0) {
        try {
          token = decodeURIComponent(part.slice(6)).trim();
        } catch (e) {
          token = part.slice(6).trim();
        }
      } else if (part) {
        rest.push(part);
      }
    });
    if (token === null) {
      return false;
    }
    var url = window.location.pathname + window.location.search;
    if (rest.length) {
      url += "#" + rest.join("&");
    }
    window.history.replaceState(window.history.state, "", url);
    if (token) {
      storeToken(token);
    }
    return Boolean(token);
  }

  var login = document.getElementById("sg-login");
  var loginInput = document.getElementById("sg-token");
  var loginStatus = document.getElementById("sg-login-status");

  // Says where the token is and how to get a link that signs this tab in.
  var howTo = " Run `sessiongraph token` in a terminal and open the link it prints"
    + (config.tokenHint ? " (the token is " + config.tokenHint + ")" : "")
    + ", or paste the token:";

  function showLogin(message) {
    loginStatus.textContent = message + howTo;
    if (login.hidden) {
      login.hidden = false;
      loginInput.focus();
    }
  }

  // Adds the token to every request GraphiQL sends, unless the headers editor sets
  // its own Authorization header, and brings the login field back on a 401.
  function authFetch(input, init) {
    var options = Object.assign({}, init);
    var headers = new Headers(options.headers || {});
    var fromEditor = headers.has("authorization");
    var token = readToken();
    if (token && !fromEditor) {
      headers.set("authorization", "Bearer " + token);
    }
    options.headers = headers;
    return window.fetch(input, options).then(function (response) {
      if (response.status === 401) {
        showLogin(
          fromEditor
            ? "The server refused the Authorization header of the headers editor (401)."
              + " Remove it from the headers editor."
            : token
              ? "The server refused this token (401)."
              : "This server needs a token (401)."
        );
      }
      return response;
    });
  }

  // Subscriptions run over a WebSocket (graphql-transport-ws) to the same path.
  // Browsers cannot set headers on one, so the token goes in connection_init, read
  // when the socket opens; the server closes it with 4401 when it is refused.
  function createWsClient() {
    var scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    return graphqlWs.createClient({
      url: scheme + "//" + window.location.host + config.endpoint,
      lazy: true,
      retryAttempts: 3,
      connectionParams: function () {
        var token = readToken();
        return token ? { authorization: "Bearer " + token } : {};
      },
      on: {
        closed: function (event) {
          if (event && event.code === 4401) {
            showLogin(readToken()
              ? "The server refused this token for subscriptions (4401)."
              : "Subscriptions need a token (4401).");
          }
        }
      }
    });
  }

  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  var wsClient = null;

  function render() {
    // A new fetcher on every render makes GraphiQL fetch the schema again; a new
    // WebSocket client makes subscriptions sign in with the current token.
    if (wsClient) {
      wsClient.dispose();
    }
    wsClient = createWsClient();
    root.render(React.createElement(GraphiQL, {
      fetcher: GraphiQL.createFetcher({
        url: config.endpoint, fetch: authFetch, wsClient: wsClient
      }),
      defaultQuery: config.defaultQuery,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
      inputValueDeprecation: true
    }));
  }

  login.addEventListener("submit", function (event) {
    event.preventDefault();
    var token = loginInput.value.trim();
    if (!token) {
      loginInput.focus();
      return;
    }
    storeToken(token);
    loginInput.value = "";
    loginStatus.textContent = "";
    login.hidden = true;
    render();
  });

  window.addEventListener("hashchange", function () {
    if (takeTokenFromFragment()) {
      login.hidden = true;
      render();
    }
  });

  takeTokenFromFragment();
  if (!readToken()) {
    showLogin("This page needs your sessiongraph token.");
  }
  render();
})();
