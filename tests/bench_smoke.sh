#!/usr/bin/env bash
# A brief benchmark run for make test: that it runs and prints its table and, with PyTorch, that
# its rounds were all measured and counted (each row with a target gives one ratio per round,
# then "k of N"). The figures themselves are not judged: `make bench` on a quiet machine gives
# the real ones. usage: tests/bench_smoke.sh NAME ROUNDS TORCH(yes|no) COMMAND...
name=$1 rounds=$2 torch=$3
shift 3
output=$("$@" 2>&1); status=$?
printf '%s\n' "$output"
echo "$name: a brief run, its figures not judged"
failed=0
if [ "$status" -ne 0 ]; then echo "  FAIL: $* exited with status $status"; failed=1; fi
if [ "$torch" = yes ]; then
    row="\| [0-9]+\.[0-9]+x( / [0-9]+\.[0-9]+x){$((rounds - 1))} \| [0-9]+ of $rounds \|"
    if ! printf '%s\n' "$output" | grep -Eq "$row"; then
        echo "  FAIL: no row gives $rounds per-round ratios and in how many of the $rounds rounds its target was met"
        failed=1
    fi
else
    echo "skipped: checking $name's rounds against PyTorch (PyTorch is not installed)"
fi
# On a CPU with AVX-512, OpenBLAS must run its AVX-512 kernels for both sides (the benches
# replace an OPENBLAS_CORETYPE that holds it to AVX2, such as this sandbox's Haswell)
checks=1
setup=$(printf '%s\n' "$output" | grep -m1 'OpenBLAS via cblas_sgemm, ')
if [ -n "$setup" ] && grep -qw avx512f /proc/cpuinfo 2>/dev/null && grep -qw avx512dq /proc/cpuinfo &&
   grep -qw avx512bw /proc/cpuinfo && grep -qw avx512vl /proc/cpuinfo; then
    checks=2
    if ! printf '%s\n' "$setup" | grep -Eq 'cblas_sgemm, (SkylakeX|Cooperlake|SapphireRapids) kernels'; then
        echo "  FAIL: this CPU has AVX-512 but the setup line names OpenBLAS kernels without it: $setup"
        failed=$((failed + 1))
    fi
fi
echo "$name: $((checks - failed)) passed, $failed failed"
