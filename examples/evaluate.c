/* evaluate: a model on a JSONL set of problems, as DeepSeek-R1 reports it (SPEC.md section 8).

     build/evaluate --model build/demo/r1_zero.ckpt --data problems.jsonl
     build/evaluate --model Qwen2.5-0.5B-Instruct --data gsm8k.jsonl --template chatml --k 8 --greedy

   --model is a grpo.h checkpoint (byte-level tokenizer) or a Hugging Face directory (config.json,
   safetensors, tokenizer.json). --data has one {"prompt": ..., "answer": ...} object per line
   (TRL's field names; --prompt-field and --answer-field for others). Each problem is sampled k
   times at temperature 0.6 and top-p 0.95 and judged by the accuracy reward (the content of the
   last <answer>...</answer> against the answer) and R1's format reward. Printed:
     pass@1   the mean over problems of (correct samples) / k
     cons@k   majority vote: the share of problems whose most frequent answer is right
     pass@k   the unbiased estimator 1 - C(n-c, k) / C(n, k) (--pass-k for another k)
     greedy   with --greedy, a separate greedy decode of each problem, never mixed into pass@1
     format   the share of samples that are <think>...</think> <answer>...</answer>
   --json also prints the figures as one JSON line. */
#define GRPO_IMPLEMENTATION
#include "grpo.h"
#include "model_files.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void usage(const char *program) {
    printf("usage: %s --model CKPT|HF_DIR --data FILE.jsonl [options]\n"
           "Evaluates a model on problems as R1 does: pass@1 over k samples (temperature 0.6, top-p 0.95),\n"
           "cons@k (majority vote), pass@k, greedy accuracy apart, format rate, mean length.\n"
           "  --model PATH        a grpo.h checkpoint, or a Hugging Face model directory with its tokenizer.json\n"
           "  --data FILE         JSONL with a prompt and an answer per line\n"
           "  --k N               samples per problem (default 8)\n"
           "  --pass-k N          the k of pass@k, 1 to --k (default --k)\n"
           "  --greedy            also decode each problem greedily and report greedy accuracy\n"
           "  --template NAME     r1_zero, chatml or none (default none: the prompt as written)\n"
           "  --system TEXT       ChatML's system turn\n"
           "  --max-tokens N      completion tokens at most (default min(128, context / 2))\n"
           "  --temperature X     (default 0.6)      --top-p X   (default 0.95)\n"
           "  --stop TEXT         end a completion once it writes TEXT (e.g. \"</answer>\")\n"
           "  --batch N           problems decoded together (default 8)\n"
           "  --limit N           the first N problems only\n"
           "  --prompt-field F    (default prompt)   --answer-field F   (default answer)\n"
           "  --context N         Hugging Face models: the context to allocate (default 1024 or the model's)\n"
           "  --seed N            (default 1)\n"
           "  --show N            print the first sample of the first N problems\n"
           "  --json              also print the results as one JSON line\n"
           "  --help              this text\n", program);
}

typedef struct { int show; const grpo_example *problems; } show_state;
static void show_sample(void *user, int problem, int sample, const char *completion, int correct, int formatted) {
    show_state *s = (show_state *)user;
    if (problem >= s->show || sample > 0) return;
    printf("problem %d (answer %s): %s, %s\n  %s\n", problem, s->problems[problem].gold, correct ? "correct" : "wrong",
           formatted ? "well-formed" : "not well-formed", completion);
}

int main(int argc, char **argv) {
    const char *model_path = NULL, *data_path = NULL, *template_name = "none", *system_prompt = NULL, *stop = NULL;
    const char *prompt_field = NULL, *answer_field = NULL;
    int k = 8, pass_k = 0, greedy = 0, max_tokens = 0, batch = 8, limit = 0, context = 1024, show = 0, json = 0;
    float temperature = 0.6f, top_p = 0.95f;
    unsigned long long seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(argv[0]); return 0; }
        if (!strcmp(a, "--greedy")) { greedy = 1; continue; }
        if (!strcmp(a, "--json")) { json = 1; continue; }
        if (!v) { fprintf(stderr, "evaluate: unknown option or missing value: %s (see --help)\n", a); return 2; }
        i++;
        if (!strcmp(a, "--model")) model_path = v;
        else if (!strcmp(a, "--data")) data_path = v;
        else if (!strcmp(a, "--k")) k = atoi(v);
        else if (!strcmp(a, "--pass-k")) pass_k = atoi(v);
        else if (!strcmp(a, "--template")) template_name = v;
        else if (!strcmp(a, "--system")) system_prompt = v;
        else if (!strcmp(a, "--max-tokens")) max_tokens = atoi(v);
        else if (!strcmp(a, "--temperature")) temperature = (float)atof(v);
        else if (!strcmp(a, "--top-p")) top_p = (float)atof(v);
        else if (!strcmp(a, "--stop")) stop = v;
        else if (!strcmp(a, "--batch")) batch = atoi(v);
        else if (!strcmp(a, "--limit")) limit = atoi(v);
        else if (!strcmp(a, "--prompt-field")) prompt_field = v;
        else if (!strcmp(a, "--answer-field")) answer_field = v;
        else if (!strcmp(a, "--context")) context = atoi(v);
        else if (!strcmp(a, "--seed")) seed = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--show")) show = atoi(v);
        else { fprintf(stderr, "evaluate: unknown option %s (see --help)\n", a); return 2; }
    }
    if (!model_path || !data_path) { fprintf(stderr, "evaluate: --model and --data are required (see --help)\n"); return 2; }
    int template_kind = !strcmp(template_name, "r1_zero") ? GRPO_TEMPLATE_R1_ZERO : !strcmp(template_name, "chatml") ? GRPO_TEMPLATE_CHATML :
                        !strcmp(template_name, "none") ? GRPO_TEMPLATE_NONE : -1;
    if (template_kind < 0) { fprintf(stderr, "evaluate: --template must be r1_zero, chatml or none\n"); return 2; }
    if (k < 1 || limit < 0 || show < 0 || pass_k < 0 || pass_k > k) { fprintf(stderr, "evaluate: --k must be >= 1, --pass-k 1 to --k, --limit and --show >= 0\n"); return 2; }

    /* the problems: prompt (template applied) and answer from each line */
    grpo_dataset data = {0};
    grpo_dataset_options options = {0};
    options.prompt_field = prompt_field, options.answer_field = answer_field, options.require_answer = 1;
    options.template_kind = template_kind, options.system_prompt = system_prompt, options.limit = limit;
    if (grpo_dataset_load_jsonl(&data, data_path, &options) != GRPO_SUCCESS) { fprintf(stderr, "evaluate: %s\n", grpo_last_error()); return 1; }
    grpo_example *problems = (grpo_example *)malloc((size_t)data.count * sizeof(grpo_example));
    if (!problems || grpo_dataset_examples(&data, problems) != GRPO_SUCCESS) { fprintf(stderr, "evaluate: out of memory\n"); return 1; }

    grpo_model model;
    grpo_tokenizer tokenizer;
    const char *kind = "";
    if (load_model(model_path, context, &model, &tokenizer, &kind)) { fprintf(stderr, "evaluate: %s\n", grpo_last_error()); return 1; }

    grpo_eval_config eval = {0};
    eval.samples_per_problem = k, eval.pass_k = pass_k, eval.greedy_run = greedy, eval.max_completion_tokens = max_tokens;
    eval.problems_per_batch = batch, eval.tokenizer = &tokenizer;
    eval.sampling.temperature = temperature, eval.sampling.top_p = top_p, eval.sampling.seed = seed;
    const char *stops[1] = {stop};
    if (stop) eval.sampling.stop_strings = stops, eval.sampling.n_stop_strings = 1;
    show_state shown = {show, problems};
    if (show) eval.on_completion = show_sample, eval.user = &shown;
    int resolved_max = max_tokens ? max_tokens : (model.config.context_length / 2 < 128 ? model.config.context_length / 2 : 128);
    printf("model     %s (%s, %zu parameters, context %d)\n", model_path, kind, model.num_parameters, model.config.context_length);
    printf("data      %s: %d problems, template %s\n", data_path, data.count, template_name);
    printf("sampling  k = %d, temperature %g, top-p %g, at most %d tokens, seed %llu\n\n", k, (double)temperature, (double)top_p, resolved_max, seed);
    fflush(stdout);
    grpo_eval_result result;
    if (grpo_evaluate(&model, &eval, problems, data.count, NULL, &result) != GRPO_SUCCESS) { fprintf(stderr, "evaluate: %s\n", grpo_last_error()); return 1; }

    char cons[16], pass[16], greedy_text[16];
    snprintf(cons, sizeof cons, "cons@%d", result.samples_per_problem);
    snprintf(pass, sizeof pass, "pass@%d", result.pass_k);
    if (greedy) snprintf(greedy_text, sizeof greedy_text, "%.1f %%", 100.0 * result.greedy_accuracy);
    else snprintf(greedy_text, sizeof greedy_text, "-");
    printf("%s| problems | pass@1  | %-7s | %-7s | greedy  | format  | mean length | seconds |\n", show ? "\n" : "", cons, pass);
    printf("|----------|---------|---------|---------|---------|---------|-------------|---------|\n");
    printf("| %8d | %5.1f %% | %5.1f %% | %5.1f %% | %7s | %5.1f %% | %11.1f | %7.1f |\n", result.n_problems, 100.0 * result.pass_at_1,
           100.0 * result.cons_at_k, 100.0 * result.pass_at_k, greedy_text, 100.0 * result.format_rate, result.mean_length, result.seconds);
    if (json) {
        char greedy_json[32] = "null"; /* JSON has no NaN */
        if (greedy) snprintf(greedy_json, sizeof greedy_json, "%.6f", result.greedy_accuracy);
        printf("{\"problems\": %d, \"k\": %d, \"pass@1\": %.6f, \"cons@%d\": %.6f, \"pass@%d\": %.6f, \"greedy\": %s, \"format\": %.6f, "
               "\"mean_length\": %.3f, \"truncated\": %.6f, \"seconds\": %.3f}\n",
               result.n_problems, result.samples_per_problem, result.pass_at_1, result.samples_per_problem, result.cons_at_k, result.pass_k,
               result.pass_at_k, greedy_json, result.format_rate, result.mean_length, result.truncated_ratio, result.seconds);
    }
    free(problems);
    grpo_dataset_destroy(&data);
    grpo_tokenizer_destroy(&tokenizer);
    grpo_model_destroy(&model);
    return 0;
}
