#!/usr/bin/env bash
# A seconds-long run of the R1-Zero demo (examples/r1_zero.c --smoke: a tiny model, a few steps)
# that checks it runs end to end and that what it writes is well-formed: the JSON lines of
# metrics.jsonl and summary.json, the samples, the checkpoints (read back by build/ask) and the
# plot. Whether the full demo reaches its targets is measured by running it (make demo), not here.
# usage: tests/demo_smoke.sh BUILD_DIR [PYTHON]
build=${1:-build}; python=${2:-/usr/bin/python3}
out="$build/demo-smoke"
passed=0; failed=0
check() { # check "what" command...
    local what=$1; shift
    if "$@" >/dev/null 2>&1; then passed=$((passed + 1)); echo "  ok   $what"
    else failed=$((failed + 1)); echo "  FAIL $what"; fi
}

rm -rf "$out"
for program in r1_zero plot ask; do
    check "$program --help" "$build/$program" --help
    check "$program refuses an unknown option" bash -c "! '$build/$program' --no-such-option"
done
log=$("$build/r1_zero" --smoke --seed 3 --out "$out" 2>&1); status=$?
printf '%s\n' "$log" | tail -n 12 | LC_ALL=C tr -c '[:print:]\n' '?' | sed 's/^/    | /'
check "r1_zero --smoke exits 0" test "$status" -eq 0
check "it prints a summary" grep -q '^summary: pass@1' <<<"$log"
check "it shows progress (SFT and GRPO steps)" bash -c "grep -q 'sft step' <<<\"\$0\" && grep -q 'grpo step' <<<\"\$0\"" "$log"

steps=$(grep -c '' "$out/metrics.jsonl" 2>/dev/null || echo 0)
check "metrics.jsonl has one line per GRPO step ($steps)" test "$steps" -eq "$(sed -n 's/.*"grpo_steps": \([0-9]*\).*/\1/p' "$out/summary.json")"
for key in '"step": 0,' '"reward":' '"rewards/accuracy/mean":' '"rewards/format/mean":' '"completions/mean_length":' '"kl":' '"entropy":'; do
    check "metrics.jsonl has $key" grep -q "$key" "$out/metrics.jsonl"
done
if "$python" -c 'import json' 2>/dev/null; then
    check "every line of metrics.jsonl and summary.json is JSON" "$python" -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert lines and all(isinstance(l, dict) and "reward" in l for l in lines)
assert [l["step"] for l in lines] == list(range(len(lines)))
s = json.load(open(sys.argv[2]))
for phase in ("base", "grpo"):
    for key in ("pass_at_1", "format_rate", "mean_length"):
        assert 0 <= s[phase][key] <= (1 if key != "mean_length" else 1000), (phase, key)
assert s["seconds"] > 0 and s["seed"] == 3' "$out/metrics.jsonl" "$out/summary.json"
else
    echo "skipped: parsing the demo's JSON ($python cannot import json); the line checks above still ran"
fi
check "samples.txt shows completions before and after GRPO" bash -c "grep -q '^base model' '$out/samples.txt' && grep -q '^after GRPO' '$out/samples.txt'"
check "plot writes an SVG" "$build/plot" -o "$out/curves.svg" "$out/metrics.jsonl" "$out/metrics.jsonl" --label a --label b
check "the SVG is complete" bash -c "head -c 5 '$out/curves.svg' | grep -q '<svg' && tail -n 1 '$out/curves.svg' | grep -q '</svg>' && grep -q '<polyline' '$out/curves.svg'"
check "plot refuses a missing log" bash -c "! '$build/plot' -o '$out/x.svg' '$out/no-such.jsonl'"
answer=$("$build/ask" --model "$out/r1_zero.ckpt" --samples 2 "1+2+3" 2>&1)
check "ask loads the trained checkpoint and answers" bash -c "grep -q '^sample 2' <<<\"\$0\" && grep -q 'tokens' <<<\"\$0\"" "$answer"
check "ask loads the base checkpoint" "$build/ask" --model "$out/base.ckpt" --greedy "4+5+6"
check "ask explains a missing checkpoint" bash -c "'$build/ask' --model '$out/none.ckpt' 1+2 2>&1 | grep -q 'make demo'"
echo "demo_smoke: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
