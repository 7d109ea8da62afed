#!/usr/bin/env bash
# Installs what reelsmith needs to build on Debian 12 (idempotent; does nothing when all is
# present). System packages come from apt-get (run as root, or with sudo when available).
# With --test, also what the test suite needs: Chromium, Node.js and npm for the browser test,
# schemathesis (pinned, from PyPI) for tests/openapi.rs, redis-server for tests/farm.rs, and
# python3-venv for the Python package's tests (scripts/python-test.sh pins maturin and pytest).
set -euo pipefail

PACKAGES=(
  pkg-config clang libclang-dev
  gcc libc6-dev   # C compiler for the SQLite that rusqlite bundles (the job service)
  libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libswresample-dev
  libavfilter-dev libavdevice-dev
  espeak-ng   # narration from text (spec: "narration": {"text": ...})
)
if [ "${1:-}" = "--test" ]; then
  PACKAGES+=(chromium)
  PACKAGES+=(redis-server)   # tests/farm.rs starts its own on a free loopback port
  command -v node >/dev/null || PACKAGES+=(nodejs)
  command -v npm >/dev/null || PACKAGES+=(npm)
  command -v python3 >/dev/null || PACKAGES+=(python3)
  python3 -m pip --version >/dev/null 2>&1 || PACKAGES+=(python3-pip)
  # scripts/python-test.sh builds the Python package in a virtual environment. Debian ships
  # `venv` without pip (python3-venv adds it): make one to know.
  venv_probe=$(mktemp -d)
  python3 -m venv "$venv_probe/v" >/dev/null 2>&1 || PACKAGES+=(python3-venv)
  rm -rf "$venv_probe"
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then SUDO="sudo"; else
      echo "setup: need root (or sudo) to apt-get install: ${missing[*]}" >&2; exit 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if ! command -v cargo >/dev/null; then
  if [ -f "$HOME/.cargo/env" ]; then . "$HOME/.cargo/env"; fi
fi
if ! command -v cargo >/dev/null; then
  echo "setup: cargo not found; install Rust >= 1.85 (https://rustup.rs) and retry" >&2
  exit 1
fi

# moto's S3 server stands in for S3-compatible storage in tests/farm.rs. Pinned, as above.
MOTO_VERSION=5.2.1
if [ "${1:-}" = "--test" ] && ! python3 -m pip show moto 2>/dev/null | grep -qx "Version: $MOTO_VERSION"; then
  echo "setup: installing moto[server] $MOTO_VERSION" >&2
  PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install -q "moto[server]==$MOTO_VERSION"
fi

# schemathesis checks the service against its OpenAPI document (tests/openapi.rs). Pinned: the
# same seed generates the same cases only with the same release. pip only when it is missing.
SCHEMATHESIS_VERSION=4.32.5
if [ "${1:-}" = "--test" ] && [ "$(schemathesis --version 2>/dev/null)" != "schemathesis, version $SCHEMATHESIS_VERSION" ]; then
  echo "setup: installing schemathesis $SCHEMATHESIS_VERSION" >&2
  # Debian's own Python refuses pip installs outside a virtual environment unless told.
  PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install -q "schemathesis==$SCHEMATHESIS_VERSION"
fi
