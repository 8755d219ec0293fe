# Sourced by run.sh and minimise.sh: the targets, the build flags and where logs go.
# The caller has cd'd to the repository's top and left the target names in "$@".
all_targets=(der pdf_inspect pdf_ltv csv xlsx nik_nip qr_token manifest_validate)
targets=("${@:-${all_targets[@]}}")

export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/naskah-fuzz-target}"
logs="${FUZZ_LOG_DIR:-${TMPDIR:-/tmp}/naskah-fuzz-logs}"
mkdir -p "$logs"
# 16 codegen units: the dependency tree (typst, sqlx, lopdf, calamine) builds in a
# fraction of the time cargo fuzz's default of one takes, for a small loss in speed.
build_flags=(--fuzz-dir fuzz --sanitizer none --codegen-units 16)
