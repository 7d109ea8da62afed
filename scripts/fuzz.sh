#!/usr/bin/env bash
# Fuzzes reelsmith's inputs for real: each cargo-fuzz target (fuzz/fuzz_targets/, harnesses in
# src/fuzzing.rs) for SECONDS_PER_TARGET seconds (default 60), with AddressSanitizer and
# overflow checks, then prints per target: executions (libFuzzer's
# stat::number_of_executed_units), coverage (cov: edges, ft: features), corpus units and
# findings (crash, timeout and out-of-memory inputs in fuzz/artifacts/<target>/).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]        FUZZ_TARGETS="spec mp4" scripts/fuzz.sh 30
#
# The committed seeds (fuzz/corpus/<target>/) are read, never written: what a run grows goes
# to fuzz/work/<target>/ (git-ignored). Minimise a finding with
#   (cd fuzz && cargo +nightly fuzz tmin -a TARGET artifacts/TARGET/crash-…)
# and, once fixed, commit the minimised input to fuzz/corpus/TARGET/ (tests/fuzz_corpus.rs
# replays it). Needs the nightly toolchain (rustup toolchain install nightly); run it under
# `nice` on a shared machine.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cargo >/dev/null && [ -f "$HOME/.cargo/env" ]; then . "$HOME/.cargo/env"; fi
seconds=${1:-60}
targets=${FUZZ_TARGETS:-spec image audio clip mp4}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz
rustup toolchain list | grep -q '^nightly' || {
  echo "fuzz.sh: needs the nightly toolchain: rustup toolchain install nightly" >&2
  exit 2
}
cd fuzz
# -a: debug assertions and overflow checks, so that arithmetic overflow is a finding too.
cargo +nightly fuzz build -a

results=()
for t in $targets; do
  mkdir -p "work/$t" "artifacts/$t"
  before=$(ls "artifacts/$t" | wc -l)
  extra=()
  [ "$t" = spec ] && extra+=(-dict=spec.dict)
  log="work/$t.log"
  echo "== $t: ${seconds}s (log: fuzz/$log)"
  # A finding stops the run (libFuzzer's exit status is then not 0).
  status=0
  cargo +nightly fuzz run -a "$t" "work/$t" "corpus/$t" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    "${extra[@]}" >"$log" 2>&1 || status=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  if [ -z "$execs" ]; then
    execs=$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#')
  fi
  last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1)
  cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.*ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.*corp: \([0-9]*\).*/\1/p' <<<"$last")
  after=$(ls "artifacts/$t" | wc -l)
  found=$((after - before))
  results+=("$(printf '%-6s %12s %8s %8s %8s %9s %7s' "$t" "${execs:-?}" "${cov:-?}" "${ft:-?}" \
    "${corp:-?}" "$found" "$status")")
  if [ "$found" -gt 0 ]; then
    grep -E '^(==[0-9]+==ERROR|SUMMARY|thread .* panicked)|panicked at|^artifact_prefix|Test unit written' \
      "$log" | head -8 || true
  fi
done
echo
printf '%-6s %12s %8s %8s %8s %9s %7s\n' target executions cov ft corpus findings status
printf '%s\n' "${results[@]}"
