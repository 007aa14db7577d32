#!/bin/sh
# Install Neo4j's own Cypher parser and semantic checker (npm
# @neo4j-cypher/language-support, pinned in tools/cypher-lint/package-lock.json) so
# tests/test_cypher_lint.py checks every statement graph/neo4j_cypher.py defines with
# no Neo4j server running. Node.js comes from the machine or, failing that, Debian.
# Idempotent: does nothing when the package is already installed at the locked version.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
dir="$here/tools/cypher-lint"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm \
            || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm; }
    else
        echo "install-cypher-lint: node/npm not found and cannot be installed; the Cypher check will report as not run"
        exit 0
    fi
fi
if [ -f "$dir/node_modules/.package-lock.json" ] && cmp -s "$dir/package-lock.json" "$dir/node_modules/.fugai-lock"; then
    echo "install-cypher-lint: already installed"
    exit 0
fi
(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
cp "$dir/package-lock.json" "$dir/node_modules/.fugai-lock"
echo "install-cypher-lint: installed $(cd "$dir" && node -e 'console.log(require("./node_modules/@neo4j-cypher/language-support/package.json").version)')"
