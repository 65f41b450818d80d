#!/usr/bin/env bash
# Re-fetch the vendored axe-core from the npm registry and check it is byte for byte what is
# committed: the package tarball and axe.min.js both by sha256. Needs npm.
set -euo pipefail
cd "$(dirname "$0")"

VERSION=4.14.1
TARBALL_SHA256=e6b0ce02b84d892e2e33e403485e7f3d6c29e2be6df65daf44d89ba564139745
AXE_SHA256=29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "axe-core@${VERSION}" >/dev/null)
echo "${TARBALL_SHA256}  ${work}/axe-core-${VERSION}.tgz" | sha256sum --check --quiet
tar -xzf "${work}/axe-core-${VERSION}.tgz" -C "$work"
echo "${AXE_SHA256}  ${work}/package/axe.min.js" | sha256sum --check --quiet
cp "${work}/package/axe.min.js" "${work}/package/LICENSE" "${work}/package/LICENSE-3RD-PARTY.txt" .
echo "${AXE_SHA256}  axe.min.js" | sha256sum --check
