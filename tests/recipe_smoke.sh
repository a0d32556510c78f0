#!/usr/bin/env bash
# Seconds-long runs of R1's recipe (examples/r1_recipe.c --quick) and of the distillation
# comparison (examples/distill.c --quick): tiny models, a few steps of every stage. Checks that
# each runs end to end and that what it writes is well-formed: the table, summary.json, the
# rejection-sampled JSONL, one JSON line per GRPO step, the checkpoints (read back by build/ask).
# Whether the full runs reach their figures is measured by running them (make recipe, make
# distill; README), not here.
# usage: tests/recipe_smoke.sh BUILD_DIR [PYTHON]
build=${1:-build}; python=${2:-/usr/bin/python3}
passed=0; failed=0
check() { # check "what" command...
    local what=$1; shift
    if "$@" >/dev/null 2>&1; then passed=$((passed + 1)); echo "  ok   $what"
    else failed=$((failed + 1)); echo "  FAIL $what"; fi
}
show() { printf '%s\n' "$1" | tail -n "$2" | LC_ALL=C tr -c '[:print:]\n' '?' | sed 's/^/    | /'; }
have_json=no; "$python" -c 'import json' 2>/dev/null && have_json=yes

for program in r1_recipe distill; do
    check "$program --help" "$build/$program" --help
    check "$program refuses an unknown option" bash -c "! '$build/$program' --no-such-option"
    check "$program refuses a missing value" bash -c "! '$build/$program' --seed"
done

# R1's recipe
out="$build/recipe-smoke"; rm -rf "$out"
log=$("$build/r1_recipe" --quick --seed 3 --out "$out" 2>&1); status=$?
show "$log" 12
check "r1_recipe --quick exits 0" test "$status" -eq 0
check "it prints the summary" grep -q '^summary: pass@1' <<<"$log"
check "it shows progress (SFT, GRPO, rejection sampling)" bash -c "grep -q 'sft step' <<<\"\$0\" && grep -q 'grpo step' <<<\"\$0\" && grep -q 'sampled,' <<<\"\$0\"" "$log"
check "the table has a row for each of the 5 evaluated stages" test "$(grep -cE '^  [0-5] [a-zA-Z]' <<<"$log")" -eq 5
check "r1_recipe wrote rejection_sampled.jsonl (empty if a tiny model wrote no valid UTF-8)" test -e "$out/rejection_sampled.jsonl"
for f in summary.json grpo1.jsonl grpo2.jsonl base.ckpt cold_start.ckpt grpo1.ckpt sft2.ckpt r1.ckpt; do
    check "r1_recipe wrote $f" test -s "$out/$f"
done
check "grpo1.jsonl has one line per step" test "$(grep -c '' "$out/grpo1.jsonl")" -eq 2
if [ "$have_json" = yes ]; then
    check "summary.json and rejection_sampled.jsonl parse, with the expected fields" "$python" -c '
import json, sys
s = json.load(open(sys.argv[1]))
assert s["seed"] == 3 and s["seconds"] > 0 and len(s["stages"]) == 5
for st in s["stages"]:
    for key in ("pass_at_1", "greedy", "format_rate"):
        assert 0 <= st[key] <= 1, (st, key)
    assert st["mean_length"] >= 0 and st["seconds"] >= 0
rs = s["rejection_sampling"]
assert rs["sampled"] == rs["prompts"] * 2 and 0 <= rs["kept"] <= rs["passed"] <= rs["sampled"]
lines = [json.loads(l) for l in open(sys.argv[2])]
assert len(lines) == rs["kept"]
for l in lines:
    assert set(l) >= {"prompt", "completion", "answer"} and l["prompt"].startswith("User: ")
pairs = [(l["prompt"], l["completion"]) for l in lines]
assert len(set(pairs)) == len(pairs), "duplicates kept"' "$out/summary.json" "$out/rejection_sampled.jsonl"
else
    echo "skipped: parsing r1_recipe's JSON ($python cannot import json); the checks above still ran"
fi
check "the recipe's base model is the R1-Zero demo's, bit for bit (same seed)" bash -c \
    "'$build/r1_zero' --quick --seed 3 --out '$out/demo' && cmp '$out/demo/base.ckpt' '$out/base.ckpt'"
check "ask loads the recipe's final checkpoint" "$build/ask" --model "$out/r1.ckpt" --greedy "1+2+3"
check "--base starts from a saved base model" "$build/r1_recipe" --quick --seed 3 --base "$out/base.ckpt" --out "$out/from-base"
check "... and runs the same stages from it (same figures after stage 1)" bash -c \
    "diff <(sed -n 's/.*\"stage\": \"1[^}]*\"pass_at_1\": \([0-9.]*\).*/\1/p' '$out/summary.json') \
          <(sed -n 's/.*\"stage\": \"1[^}]*\"pass_at_1\": \([0-9.]*\).*/\1/p' '$out/from-base/summary.json')"
check "r1_recipe explains a missing base checkpoint" bash -c "'$build/r1_recipe' --quick --base '$out/none.ckpt' --out '$out/x' 2>&1 | grep -q 'none.ckpt'"

# Distillation
out="$build/distill-smoke"; rm -rf "$out"
log=$("$build/distill" --quick --seed 3 --out "$out" 2>&1); status=$?
show "$log" 12
check "distill --quick exits 0" test "$status" -eq 0
check "it prints the summary" grep -q '^summary: student pass@1' <<<"$log"
check "it shows progress (SFT, GRPO, sampling)" bash -c "grep -q 'sft step' <<<\"\$0\" && grep -q 'grpo step' <<<\"\$0\" && grep -q 'sampled,' <<<\"\$0\"" "$log"
check "distill wrote distill.jsonl" test -e "$out/distill.jsonl"
for f in summary.json teacher_grpo.jsonl student_grpo.jsonl teacher_base.ckpt teacher.ckpt student_base.ckpt student_distilled.ckpt student_grpo.ckpt; do
    check "distill wrote $f" test -s "$out/$f"
done
if [ "$have_json" = yes ]; then
    check "summary.json parses: five models, the student smaller, compute counted" "$python" -c '
import json, sys
s = json.load(open(sys.argv[1]))
assert s["seed"] == 3 and s["student_parameters"] < s["teacher_parameters"]
m = {r["model"]: r for r in s["models"]}
assert len(m) == 5
d, g = m["student distilled from teacher"], m["student by GRPO directly"]
assert d["gflops_total"] > d["gflops_student"] >= 0 and g["gflops_total"] == g["gflops_student"] > 0
for r in s["models"]:
    assert 0 <= r["pass_at_1"] <= 1 and 0 <= r["format_rate"] <= 1 and r["seconds"] >= 0
lines = [json.loads(l) for l in open(sys.argv[2])]
assert len(lines) == s["rejection_sampling"]["kept"]' "$out/summary.json" "$out/distill.jsonl"
else
    echo "skipped: parsing distill's JSON ($python cannot import json); the checks above still ran"
fi
check "ask loads the distilled student" "$build/ask" --model "$out/student_distilled.ckpt" --greedy "4+5+6"
echo "recipe_smoke: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
