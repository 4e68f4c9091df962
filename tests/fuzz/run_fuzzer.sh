#!/usr/bin/env bash
# The bounded fuzz test of the fuzz build (ctest label fuzz):
#   run_fuzzer.sh FUZZER SEEDS SECONDS ARTIFACT_PREFIX [DICT]
# Runs FUZZER for SECONDS over the seed corpus. New inputs go to a temporary
# folder (libFuzzer writes only into its first corpus folder), so the source
# tree is never written to; a crashing input is kept as ARTIFACT_PREFIX*.
set -euo pipefail
fuzzer=$1 seeds=$2 seconds=$3 prefix=$4 dict=${5:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A UBSan report is a finding, like an ASan one.
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
args=(-max_total_time="$seconds" -timeout=10 -artifact_prefix="$prefix" -print_final_stats=1)
[[ -n "$dict" ]] && args+=(-dict="$dict")
exec "$fuzzer" "${args[@]}" "$work" "$seeds"
