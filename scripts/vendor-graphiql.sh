#!/usr/bin/env bash
# Vendor the GraphiQL playground assets into graph/static/graphiql/ so the
# playground works with no network access at run time.
#
# Fetches the pinned npm packages with `npm pack` (registry access is only
# needed when running this script, never at run time), then copies just the
# production bundles and each package's LICENSE.
#
# Usage: scripts/vendor-graphiql.sh
set -euo pipefail

REACT_VERSION="18.2.0"
REACT_DOM_VERSION="18.2.0"
GRAPHIQL_VERSION="3.8.3"
# The WebSocket client GraphiQL runs subscriptions with (graphql-transport-ws protocol).
GRAPHQL_WS_VERSION="6.4.2"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${repo_root}/graph/static/graphiql"

command -v npm >/dev/null 2>&1 || {
    echo "error: npm is required (apt-get install npm)" >&2
    exit 1
}

tmp="$(mktemp -d)"
trap 'rm -rf "${tmp}"' EXIT

# fetch NAME VERSION -> extracts the tarball into ${tmp}/NAME/package
fetch() {
    local name="$1" version="$2"
    mkdir -p "${tmp}/${name}"
    (
        cd "${tmp}/${name}"
        tarball="$(npm pack --silent "${name}@${version}" | tail -n 1)"
        tar -xzf "${tarball}"
    )
    local got
    got="$(node -p "require('${tmp}/${name}/package/package.json').version")"
    if [[ "${got}" != "${version}" ]]; then
        echo "error: ${name}: expected ${version}, got ${got}" >&2
        exit 1
    fi
}

fetch react "${REACT_VERSION}"
fetch react-dom "${REACT_DOM_VERSION}"
fetch graphiql "${GRAPHIQL_VERSION}"
fetch graphql-ws "${GRAPHQL_WS_VERSION}"

rm -rf "${dest}"
mkdir -p "${dest}"

install -m 0644 "${tmp}/react/package/umd/react.production.min.js" "${dest}/"
install -m 0644 "${tmp}/react/package/LICENSE" "${dest}/LICENSE.react"
install -m 0644 "${tmp}/react-dom/package/umd/react-dom.production.min.js" "${dest}/"
install -m 0644 "${tmp}/react-dom/package/LICENSE" "${dest}/LICENSE.react-dom"
install -m 0644 "${tmp}/graphiql/package/graphiql.min.js" "${dest}/"
install -m 0644 "${tmp}/graphiql/package/graphiql.min.css" "${dest}/"
install -m 0644 "${tmp}/graphiql/package/LICENSE" "${dest}/LICENSE.graphiql"
install -m 0644 "${tmp}/graphql-ws/package/umd/graphql-ws.min.js" "${dest}/"
install -m 0644 "${tmp}/graphql-ws/package/LICENSE.md" "${dest}/LICENSE.graphql-ws"

cat > "${dest}/VERSIONS" <<VERSIONS
react ${REACT_VERSION}
react-dom ${REACT_DOM_VERSION}
graphiql ${GRAPHIQL_VERSION}
graphql-ws ${GRAPHQL_WS_VERSION}
VERSIONS

echo "vendored into ${dest}:"
ls -l "${dest}"
du -sh "${dest}"
