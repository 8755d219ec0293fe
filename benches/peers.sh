#!/bin/sh
# Installs the peers that `naskah-bench` measures against, and does nothing for those
# already there (the bench runs it first unless --no-install):
#
#   - a venv at $NASKAH_BENCH_VENV (default /var/tmp/naskah-bench-venv) with PyPI's
#     `typst` (Python bindings of the same Typst version), `weasyprint`, and `pyhanko`
#     (the PDF signing peer);
#   - the Typst command line (`typst-cli` from crates.io, the same Typst version as the
#     renderer) under $NASKAH_BENCH_TOOLS (default /var/tmp/naskah-bench-tools); the
#     first install compiles for ~10 minutes;
#   - WeasyPrint's system libraries (Pango) from Debian when missing and we are root.
#
# Each step that fails prints why and the bench then skips that peer with a note.
set -u

VENV=${NASKAH_BENCH_VENV:-/var/tmp/naskah-bench-venv}
TOOLS=${NASKAH_BENCH_TOOLS:-/var/tmp/naskah-bench-tools}
TYPST_VERSION=0.15.1
TYPST_PY_VERSION=0.15.0
WEASYPRINT_VERSION=70.0
PYHANKO_VERSION=0.38.0

say() { echo "peers.sh: $*" >&2; }

# Pango and friends for WeasyPrint.
if ! ldconfig -p 2>/dev/null | grep -q libpango-1.0; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        say "installing WeasyPrint's libraries (libpango-1.0-0, libpangoft2-1.0-0, libharfbuzz-subset0)"
        apt-get install -y -q libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 >/dev/null 2>&1 ||
            { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 >/dev/null 2>&1; } ||
            say "could not install Pango; WeasyPrint will be skipped"
    else
        say "Pango is missing; install libpango-1.0-0 for WeasyPrint"
    fi
fi

# The venv.
if [ ! -x "$VENV/bin/python" ]; then
    say "creating $VENV"
    python3 -m venv "$VENV" || say "could not create the venv"
fi
if [ -x "$VENV/bin/python" ]; then
    if ! "$VENV/bin/python" -c "import typst, weasyprint, pyhanko" >/dev/null 2>&1; then
        say "installing typst==$TYPST_PY_VERSION, weasyprint==$WEASYPRINT_VERSION and pyhanko==$PYHANKO_VERSION into $VENV"
        "$VENV/bin/pip" install -q "typst==$TYPST_PY_VERSION" "weasyprint==$WEASYPRINT_VERSION" "pyhanko==$PYHANKO_VERSION" ||
            say "pip install failed; the Python peers will be skipped"
    fi
fi

# The Typst command line.
if [ ! -x "$TOOLS/bin/typst" ] || ! "$TOOLS/bin/typst" --version 2>/dev/null | grep -q "$TYPST_VERSION"; then
    if command -v cargo >/dev/null; then
        say "installing typst-cli $TYPST_VERSION into $TOOLS (compiles for several minutes, once)"
        mkdir -p "$TOOLS"
        CARGO_TARGET_DIR="$TOOLS/target" cargo install --quiet --locked typst-cli --version "=$TYPST_VERSION" --root "$TOOLS" ||
            say "cargo install typst-cli failed; the Typst command line will be skipped"
    else
        say "cargo not found; the Typst command line will be skipped"
    fi
fi
exit 0
