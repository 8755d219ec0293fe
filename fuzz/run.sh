#!/usr/bin/env bash
# Runs every fuzz target for a set time and prints what each did.
#
#   fuzz/run.sh [seconds-per-target] [target...]     (default 60 s, every target)
#   nice -n 19 fuzz/run.sh 120                        (on a shared machine)
#
# Stable Rust is enough. The targets are built without a sanitizer (the code forbids
# unsafe; a panic is the finding), for which cargo fuzz passes no nightly-only flag;
# RUSTC_BOOTSTRAP=1 is set all the same so that the same build works with
# `--sanitizer address` (-Zsanitizer), and so that the flags, and with them the cached
# build, stay the same from run to run. Release mode with debug assertions and overflow
# checks, the cargo fuzz default. New inputs that reach new code are added to fuzz/corpus/<target>; an input
# that crashes a target is copied to fuzz/crashes-found/<target>/ and the script exits 1.
set -uo pipefail

cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
# shellcheck source=fuzz/common.sh
source fuzz/common.sh "$@"

max_len() {
    case "$1" in
        der) echo 16384 ;;
        pdf_inspect | pdf_ltv) echo 131072 ;;
        csv | xlsx) echo 65536 ;;
        nik_nip) echo 256 ;;
        qr_token) echo 2048 ;;
        manifest_validate) echo 32768 ;;
        *) echo 65536 ;;
    esac
}

echo "building the fuzz targets (${CARGO_TARGET_DIR})..."
if ! cargo fuzz build "${build_flags[@]}" >"$logs/build.log" 2>&1; then
    tail -n 40 "$logs/build.log"
    echo "build failed; the whole log is $logs/build.log" >&2
    exit 2
fi

failed=0
summary=$'| target | seconds | executions | exec/s | corpus files | corpus KiB | result |\n|---|---|---|---|---|---|---|'
for target in "${targets[@]}"; do
    corpus="fuzz/corpus/$target"
    mkdir -p "$corpus"
    log="$logs/$target.log"
    echo "fuzzing $target for ${seconds}s (log: $log)"
    started=$(date +%s)
    cargo fuzz run "${build_flags[@]}" "$target" "$corpus" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -max_len="$(max_len "$target")" \
        -timeout=60 -print_final_stats=1 >"$log" 2>&1
    status=$?
    elapsed=$(($(date +%s) - started))

    # "Done N runs in S second(s)" when the time ran out; otherwise the last status line.
    runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1)
    took=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\2/p' "$log" | tail -n 1)
    if [ -z "$runs" ]; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
    fi
    if [ -z "$runs" ]; then
        runs=$(grep -o '^#[0-9]*' "$log" | tail -n 1 | tr -d '#')
    fi
    took="${took:-$elapsed}"
    rate=$(sed -n 's/^stat::average_exec_per_sec: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
    files=$(find "$corpus" -type f | wc -l)
    kib=$(find "$corpus" -type f -printf '%s\n' | awk '{ total += $1 } END { printf "%d", (total + 1023) / 1024 }')

    artifacts=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log")
    if [ "$status" -eq 0 ] && [ -z "$artifacts" ]; then
        result="no crash"
    else
        failed=1
        result="CRASH (exit $status)"
        mkdir -p "fuzz/crashes-found/$target"
        for artifact in $artifacts; do
            [ -f "$artifact" ] && cp "$artifact" "fuzz/crashes-found/$target/"
            result="$result $(basename "$artifact")"
        done
        # The panic and where it was raised.
        grep -m 3 -E "panicked at|^thread '|ERROR: libFuzzer" "$log" | sed "s/^/    $target: /"
    fi
    echo "  $target: ${runs:-?} runs in ${took}s, corpus $files files (${kib} KiB): $result"
    summary+=$'\n'"| $target | $took | ${runs:-?} | ${rate:-?} | $files | $kib | $result |"
done

echo
echo "$summary"
if [ "$failed" -ne 0 ]; then
    echo "a target crashed: the inputs are in fuzz/crashes-found/, the logs in $logs" >&2
    exit 1
fi
