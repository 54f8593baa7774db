#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine (as root) and runs every wirescope test.
# Installs the Debian packages the tests need, `npm ci`, starts the daemons the
# engine tests need when they are not running (and stops what it started), then
# runs the whole suite. Fails when a test fails or is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh

ws_install_packages "${WS_TEST_PACKAGES[@]}"
ws_npm_ci
ws_start_daemons
trap ws_stop_daemons EXIT

npm run --silent lint
npm run --silent build
ws_run_tests
