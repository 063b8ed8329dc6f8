#!/usr/bin/env bash
# Runs every test: the Rust unit and integration tests, then the conformance suite that
# drives the real server through the official SDKs (installed here into .venv, pinned).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --workspace --all-targets --locked
cargo test --workspace --locked

venv=.venv
stamp="$venv/.requirements.sha256"
want=$(sha256sum tests/sdk/requirements.txt | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "== installing the pinned official SDKs into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/sdk/requirements.txt
  echo "$want" > "$stamp"
fi

echo "== conformance through the official SDKs"
CLOUDTWIN_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/cloudtwin" "$venv/bin/python" -m pytest tests/sdk -q -p no:cacheprovider "$@"
