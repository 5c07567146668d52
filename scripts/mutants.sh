#!/usr/bin/env bash
# Mutation testing of the reference loader and the fingerprint comparison, with the conformance
# suite as the only test: how many mutants of spec/src/loader/** and spec/src/fingerprint.rs does
# `cargo test -p plugspec-runner --test reference` catch? Not part of .ci/run: a full run takes
# about 45 minutes on two cores with --in-place in a scratch clone whose target/ is warm (about
# 7 s a mutant: plugspec and the runner's test rebuilt, the fixtures relinked, the suite run);
# --iterate then re-tests only what was not caught; split it with --shard k/n.
#
#   scripts/mutants.sh                  # every mutant; results in mutants.out/ (outcomes.json,
#                                       # caught.txt, missed.txt, unviable.txt, timeout.txt)
#   scripts/mutants.sh --list           # only list them (also checks the exclusions, below)
#   scripts/mutants.sh --shard 0/4      # any further cargo-mutants options are passed on
#
# Mutants that no test of the contract can catch are excluded by scripts/mutants-exclude.txt: one
# regular expression per line (matched against the mutant's name as `--list` shows it), then two
# spaces, `# ` and the reason. Every exclusion must have a reason and must still match a mutant.
# PLUGSPEC_MUTANTS_JOBS sets cargo-mutants' -j (default 1: each job builds the fixtures too).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v cargo-mutants >/dev/null 2>&1 || cargo install --locked cargo-mutants

scope=(--file 'spec/src/loader/**' --file spec/src/fingerprint.rs)
exclusions=scripts/mutants-exclude.txt
args=()
all=$(cargo mutants --list "${scope[@]}")
host_arch=$(rustc -vV | sed -n 's/^host: \([^-]*\)-.*/\1/p')
while IFS= read -r line || [[ -n "$line" ]]; do
  [[ -z "$line" || "$line" == \#* ]] && continue
  re="${line%%  # *}"
  reason="${line#*  # }"
  if [[ "$re" == "$line" || -z "${reason// }" ]]; then
    echo "$exclusions: an exclusion without a reason (\`<regex>  # <reason>\`): $line" >&2
    exit 2
  fi
  # The host's own architecture arm is live here, so its mutant stays in.
  [[ "$re" == *"\"$host_arch\""* ]] && continue
  if ! grep -Eq -- "$re" <<<"$all"; then
    echo "$exclusions: matches no mutant any more (the code moved or changed): $re" >&2
    exit 2
  fi
  args+=(--exclude-re "$re")
done < "$exclusions"

# --in-place (in a scratch clone whose target/ is warm: much faster than a cold copy) runs one job.
jobs=(-j "${PLUGSPEC_MUTANTS_JOBS:-1}")
[[ " $* " == *" --in-place "* ]] && jobs=()

# CI=true: a changed transcript fails the run, so a mutant that changes only a message is caught.
export CI=true
if [[ " $* " != *" --list "* ]]; then
  # The baseline, here: cargo-mutants' own baseline run builds the mutated package's tests
  # (plugspec) instead of --test-package's, and plugspec has no target `reference`.
  cargo test -p plugspec-runner --test reference --locked
fi
exec cargo mutants "${scope[@]}" "${args[@]}" \
  --test-package plugspec-runner --cargo-arg=--test=reference --baseline=skip \
  --timeout 120 --build-timeout 900 "${jobs[@]}" "$@"
