#!/usr/bin/env bash
# Builds the Python package (python/) into a virtual environment under target/ and runs its
# pytest tests: in-process renders read back through reelsmith.probe, cancellation and
# Ctrl-C, SpecError paths, the typed models against every example and under mypy, the
# client against a real `reelsmith serve`, the example course generator. Needs
# target/debug/reelsmith (the service and CLI comparisons): scripts/test.sh has built it by
# then; alone, it builds it.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cargo >/dev/null && [ -f "$HOME/.cargo/env" ]; then . "$HOME/.cargo/env"; fi
MATURIN_VERSION=1.16.0
PYTEST_VERSION=9.2.0
MYPY_VERSION=2.4.1
VENV=target/python-venv
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
if [ "$("$VENV/bin/python" -m pip freeze 2>/dev/null | grep -ci -E "^(maturin==$MATURIN_VERSION|pytest==$PYTEST_VERSION|mypy==$MYPY_VERSION)$")" != 3 ]; then
  "$VENV/bin/python" -m pip install -q "maturin==$MATURIN_VERSION" "pytest==$PYTEST_VERSION" \
    "mypy==$MYPY_VERSION"
fi
[ -x target/debug/reelsmith ] || cargo build --locked
# The debug profile and the library's features as `cargo test --features fault-injection`
# builds them (the extension's `suite` feature): only pyo3 and the extension are compiled
# here, the rest is the suite's. Without it every dependency would be compiled again.
VIRTUAL_ENV="$PWD/$VENV" PATH="$PWD/$VENV/bin:$PATH" \
  "$VENV/bin/maturin" develop --locked --quiet --features suite --manifest-path python/Cargo.toml
REELSMITH_BIN="$PWD/target/debug/reelsmith" "$VENV/bin/python" -m pytest -q python/tests "$@"
