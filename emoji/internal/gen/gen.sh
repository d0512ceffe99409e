#!/bin/sh
# gen.sh fetches the Unicode data package from the npm registry into a
# temporary directory and regenerates emoji/rgi.txt from it.
set -eu
VERSION=17.0.0
PKG=@unicode/unicode-$VERSION@2.1.0
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "$PKG" >/dev/null && tar xzf ./*.tgz)
node "$here/gen.mjs" "$tmp/package" "$VERSION" "$here/../../rgi.txt" "$here/../../testdata/emoji-test.txt"
