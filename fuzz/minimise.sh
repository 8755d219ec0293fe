#!/usr/bin/env bash
# Minimises the corpora before they are committed, as `cargo fuzz cmin` does, but keeps
# the named seeds (the generators' files in seedgen/): they go first, and of what the
# runs added (files named by their SHA-1) only what reaches code the rest does not is
# kept. Then, while a target's corpus is over its budget, its largest added files go.
#
#   fuzz/minimise.sh [target...]                  (default: every target)
set -uo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=fuzz/common.sh
source fuzz/common.sh "$@"
# KiB per target; all corpora together stay under 2 MiB. The PDF targets' named seeds
# alone take about 320 KiB each (a signature reserves 32 KiB of hex).
budget_kib() {
    case "$1" in
        pdf_inspect) echo 500 ;;
        pdf_ltv) echo 400 ;;
        der | xlsx) echo 250 ;;
        manifest_validate) echo 200 ;;
        csv) echo 150 ;;
        qr_token) echo 100 ;;
        *) echo 50 ;;
    esac
}

for target in "${targets[@]}"; do
    corpus="fuzz/corpus/$target"
    [ -d "$corpus" ] || continue
    work=$(mktemp -d)
    mkdir "$work/kept" "$work/added"
    for file in "$corpus"/*; do
        if [[ "$(basename "$file")" =~ ^[0-9a-f]{40}$ ]]; then
            mv "$file" "$work/added/"
        else
            mv "$file" "$work/kept/"
        fi
    done
    before=$(find "$work" -type f | wc -l)
    cargo fuzz run "${build_flags[@]}" "$target" "$work/kept" "$work/added" -- \
        -merge=1 -rss_limit_mb=2048 -max_len=131072 -timeout=60 >"$logs/minimise-$target.log" 2>&1 \
        || { echo "$target: merge failed, see $logs/minimise-$target.log; corpus left as it was" >&2
             mv "$work"/added/* "$work"/kept/* "$corpus"/ 2>/dev/null; rm -rf "$work"; continue; }
    # Over budget: drop the largest files the runs added (never a named seed).
    while [ "$(du -sk --apparent-size "$work/kept" | cut -f1)" -gt "$(budget_kib "$target")" ]; do
        largest=$(find "$work/kept" -type f -regextype posix-extended -regex '.*/[0-9a-f]{40}' -printf '%s %p\n' \
            | sort -n | tail -n 1 | cut -d' ' -f2-)
        [ -n "$largest" ] || break
        rm -f "$largest"
    done
    mv "$work"/kept/* "$corpus"/
    rm -rf "$work"
    after=$(find "$corpus" -type f | wc -l)
    echo "$target: $before files -> $after files, $(du -sk --apparent-size "$corpus" | cut -f1) KiB"
done
echo "all corpora: $(du -sk --apparent-size fuzz/corpus | cut -f1) KiB"
