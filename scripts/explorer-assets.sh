#!/usr/bin/env bash
# Rebuild gateway/explorer/static/vendor/ from pinned npm packages (`make explorer-assets`).
# GraphiQL 3.x is the last line that ships a prebuilt browser bundle (graphiql.min.js, React and
# ReactDOM as globals), so no bundler is needed: the files are copied as npm ships them, minus the
# sourceMappingURL comment (the maps are not shipped). The result is committed; the page never
# loads anything from a CDN.
set -euo pipefail
cd "$(dirname "$0")/.."

GRAPHIQL=3.8.3
REACT=18.3.1
WORK=.venv/explorer-npm
OUT=gateway/explorer/static/vendor

mkdir -p "$WORK" "$OUT"
cat > "$WORK/package.json" <<JSON
{"private": true, "dependencies": {"graphiql": "$GRAPHIQL", "react": "$REACT", "react-dom": "$REACT"}}
JSON
npm install --prefix "$WORK" --no-audit --no-fund --ignore-scripts --omit=peer --loglevel=error >/dev/null

strip_map() { sed -e '/^\/\/# sourceMappingURL=/d' -e 's#/\*\# sourceMappingURL=[^*]*\*/##' "$1" > "$2"; }
strip_map "$WORK/node_modules/graphiql/graphiql.min.js" "$OUT/graphiql.min.js"
strip_map "$WORK/node_modules/graphiql/graphiql.min.css" "$OUT/graphiql.min.css"
cp "$WORK/node_modules/react/umd/react.production.min.js" "$OUT/react.production.min.js"
cp "$WORK/node_modules/react-dom/umd/react-dom.production.min.js" "$OUT/react-dom.production.min.js"
for pkg in graphiql react react-dom; do
    cp "$WORK/node_modules/$pkg/LICENSE" "$OUT/LICENSE.$pkg"
done
{
    echo "graphiql@$GRAPHIQL react@$REACT react-dom@$REACT (npm); rebuilt by scripts/explorer-assets.sh"
    (cd "$OUT" && sha256sum graphiql.min.js graphiql.min.css react.production.min.js react-dom.production.min.js)
} > "$OUT/VERSIONS"
# Shipped gzipped (the page serves NAME.gz to clients that accept gzip, inflated for the others):
# the bundle is 3.5 MB as npm ships it, 0.9 MB packed. VERSIONS names the unpacked files.
gzip -9 -n -f "$OUT/graphiql.min.js"
echo "wrote $OUT:"
cat "$OUT/VERSIONS"
