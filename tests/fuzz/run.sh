#!/bin/sh
# Builds a libFuzzer target with clang (ASan + UBSan) into build/fuzz/, replays the saved
# crashers as regressions, then fuzzes for SECONDS over the seed corpus.
#   tests/fuzz/run.sh TARGET SECONDS        e.g. tests/fuzz/run.sh fuzz_rewards 30
# TARGET fuzz_X is tests/fuzz/fuzz_X.c; its seeds are tests/fuzz/corpus/X/, its crashers
# tests/fuzz/crashers/X-*. New corpus entries go to build/fuzz/corpus/X/ (the seeds are not
# modified); a new crash is written to build/fuzz/artifacts/ -- copy it to tests/fuzz/crashers/.
# Ends with "TARGET: 1 passed, 0 failed" (clean) or "TARGET: 0 passed, 1 failed"; exit code
# non-zero on any crash. Variables: CLANG (default clang), FUZZ_CFLAGS (extra compiler flags,
# e.g. -I/some/dir to fuzz another grpo.h), FUZZ_FLAGS (extra libFuzzer flags).
set -u
cd "$(dirname "$0")/../.." || exit 2
if [ $# -ne 2 ]; then echo "usage: $0 TARGET SECONDS" >&2; exit 2; fi
target=$1
seconds=$2
name=${target#fuzz_}
CLANG=${CLANG:-clang}
out=build/fuzz
mkdir -p "$out/corpus/$name" "$out/artifacts"

verdict() {
    if [ "$1" -eq 0 ]; then echo "$target: 1 passed, 0 failed"; else echo "$target: 0 passed, 1 failed"; fi
    exit "$1"
}

if ! "$CLANG" ${FUZZ_CFLAGS:-} -std=c11 -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
        -fno-sanitize-recover=all -Wall -Wextra -Wno-unused-function -Wno-unknown-pragmas -I. \
        "tests/fuzz/$target.c" -o "$out/$target" -lm; then
    echo "$target: could not build with $CLANG -fsanitize=fuzzer (is libclang-rt-dev installed?)" >&2
    verdict 1
fi

# Regressions: every saved crasher must now run clean.
crashers=$(ls tests/fuzz/crashers/"$name"-* 2>/dev/null)
if [ -n "$crashers" ]; then
    # shellcheck disable=SC2086
    if ! "$out/$target" -runs=1 $crashers >"$out/$target.replay.log" 2>&1; then
        tail -n 30 "$out/$target.replay.log"
        echo "$target: a saved crasher still fails (log: $out/$target.replay.log)" >&2
        verdict 1
    fi
    echo "$target: $(echo "$crashers" | wc -l) saved crashers replayed clean"
fi

# Fuzz. -timeout: an input taking 10 s counts as a crash (a hang). One core by default;
# FUZZ_FLAGS="-fork=4" or similar for more.
"$out/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -max_len=16384 \
    -print_final_stats=1 -artifact_prefix="$out/artifacts/$name-" ${FUZZ_FLAGS:-} \
    "$out/corpus/$name" "tests/fuzz/corpus/$name" >"$out/$target.log" 2>&1
status=$?
grep -E "^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb)" "$out/$target.log"
if [ "$status" -ne 0 ] || ! grep -q "^Done [0-9]* runs" "$out/$target.log"; then
    grep -E "invariant failed|==[0-9]+==ERROR|SUMMARY|Test unit written|runtime error" "$out/$target.log" | head -n 20
    echo "$target: crashed (exit $status); the input is in $out/artifacts/, the log in $out/$target.log" >&2
    verdict 1
fi
verdict 0
