/* rejection_sample: R1's rejection sampling (SPEC.md section 7, step 3). Samples k completions
   for each prompt of a JSONL set, keeps those that are right and well-formed, removes duplicates,
   and writes them as SFT data: one {"prompt", "completion", "answer"} object per line.

     build/rejection_sample --model build/demo/r1_zero.ckpt --data problems.jsonl --out sft.jsonl
     build/sft --model build/demo/base.ckpt --data sft.jsonl --epochs 2 --out sft.ckpt

   --model is a grpo.h checkpoint (byte-level tokenizer) or a Hugging Face directory. A completion
   is kept when its reward -- accuracy (the content of the last <answer>...</answer> against the
   answer) plus R1's format reward, weight 1 each -- is at least --threshold (default 2: both).
   The prompts are written with the template applied, so train on the output with --template none. */
#define GRPO_IMPLEMENTATION
#include "grpo.h"
#include "model_files.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void usage(const char *program) {
    printf("usage: %s --model CKPT|HF_DIR --data FILE.jsonl --out FILE.jsonl [options]\n"
           "Rejection sampling: k samples per prompt, keep the right and well-formed ones, de-duplicate, write SFT data.\n"
           "  --model PATH        a grpo.h checkpoint, or a Hugging Face model directory with its tokenizer.json\n"
           "  --data FILE         JSONL with a prompt and an answer per line\n"
           "  --out FILE          the JSONL written: prompt (template applied), completion, answer\n"
           "  --k N               samples per prompt (default 8)\n"
           "  --threshold X       keep a completion whose accuracy + format reward is >= X (default 2: both)\n"
           "  --max-per-prompt M  keep at most M distinct completions per prompt (default 0: all)\n"
           "  --template NAME     r1_zero, chatml or none (default none)\n"
           "  --system TEXT       ChatML's system turn\n"
           "  --max-tokens N      completion tokens at most (default min(128, context / 2))\n"
           "  --temperature X     (default 1.0)      --top-p X   (default 1.0)\n"
           "  --stop TEXT         end a completion once it writes TEXT (e.g. \"</answer>\")\n"
           "  --batch N           prompts decoded together (default 8)\n"
           "  --limit N           the first N prompts only\n"
           "  --context N         Hugging Face models: the context to allocate (default 1024 or the model's)\n"
           "  --seed N            (default 1)\n"
           "  --help              this text\n", program);
}

int main(int argc, char **argv) {
    const char *model_path = NULL, *data_path = NULL, *out_path = NULL, *template_name = "none", *system_prompt = NULL, *stop = NULL;
    int k = 8, max_per_prompt = 0, max_tokens = 0, batch = 8, limit = 0, context = 1024;
    float threshold = 0.0f, temperature = 1.0f, top_p = 1.0f;
    unsigned long long seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(argv[0]); return 0; }
        if (!v) { fprintf(stderr, "rejection_sample: unknown option or missing value: %s (see --help)\n", a); return 2; }
        i++;
        if (!strcmp(a, "--model")) model_path = v;
        else if (!strcmp(a, "--data")) data_path = v;
        else if (!strcmp(a, "--out")) out_path = v;
        else if (!strcmp(a, "--k")) k = atoi(v);
        else if (!strcmp(a, "--threshold")) threshold = (float)atof(v);
        else if (!strcmp(a, "--max-per-prompt")) max_per_prompt = atoi(v);
        else if (!strcmp(a, "--template")) template_name = v;
        else if (!strcmp(a, "--system")) system_prompt = v;
        else if (!strcmp(a, "--max-tokens")) max_tokens = atoi(v);
        else if (!strcmp(a, "--temperature")) temperature = (float)atof(v);
        else if (!strcmp(a, "--top-p")) top_p = (float)atof(v);
        else if (!strcmp(a, "--stop")) stop = v;
        else if (!strcmp(a, "--batch")) batch = atoi(v);
        else if (!strcmp(a, "--limit")) limit = atoi(v);
        else if (!strcmp(a, "--context")) context = atoi(v);
        else if (!strcmp(a, "--seed")) seed = strtoull(v, NULL, 10);
        else { fprintf(stderr, "rejection_sample: unknown option %s (see --help)\n", a); return 2; }
    }
    if (!model_path || !data_path || !out_path) { fprintf(stderr, "rejection_sample: --model, --data and --out are required (see --help)\n"); return 2; }
    int template_kind = !strcmp(template_name, "r1_zero") ? GRPO_TEMPLATE_R1_ZERO : !strcmp(template_name, "chatml") ? GRPO_TEMPLATE_CHATML :
                        !strcmp(template_name, "none") ? GRPO_TEMPLATE_NONE : -1;
    if (template_kind < 0) { fprintf(stderr, "rejection_sample: --template must be r1_zero, chatml or none\n"); return 2; }
    if (k < 1 || max_per_prompt < 0 || limit < 0) { fprintf(stderr, "rejection_sample: --k must be >= 1, --max-per-prompt and --limit >= 0\n"); return 2; }

    grpo_dataset data = {0}, kept = {0};
    grpo_dataset_options options = {0};
    options.require_answer = 1, options.template_kind = template_kind, options.system_prompt = system_prompt, options.limit = limit;
    if (grpo_dataset_load_jsonl(&data, data_path, &options) != GRPO_SUCCESS) { fprintf(stderr, "rejection_sample: %s\n", grpo_last_error()); return 1; }
    grpo_example *problems = (grpo_example *)malloc((size_t)data.count * sizeof(grpo_example));
    if (!problems || grpo_dataset_examples(&data, problems) != GRPO_SUCCESS) { fprintf(stderr, "rejection_sample: out of memory\n"); return 1; }
    grpo_model model;
    grpo_tokenizer tokenizer;
    if (load_model(model_path, context, &model, &tokenizer, NULL)) { fprintf(stderr, "rejection_sample: %s\n", grpo_last_error()); return 1; }

    grpo_rejection_config rc = {0};
    rc.samples_per_prompt = k, rc.threshold = threshold, rc.max_per_prompt = max_per_prompt, rc.max_completion_tokens = max_tokens;
    rc.prompts_per_batch = batch, rc.tokenizer = &tokenizer;   /* rewards NULL: accuracy + format */
    rc.sampling.temperature = temperature, rc.sampling.top_p = top_p, rc.sampling.seed = seed;
    const char *stops[1] = {stop};
    if (stop) rc.sampling.stop_strings = stops, rc.sampling.n_stop_strings = 1;
    fprintf(stderr, "sampling %d completions for each of %d prompts from %s (%zu parameters)...\n", k, data.count, model_path, model.num_parameters);
    grpo_rejection_result result;
    if (grpo_rejection_sample(&model, &rc, problems, data.count, &kept, &result) != GRPO_SUCCESS ||
        grpo_dataset_save_jsonl(&kept, out_path) != GRPO_SUCCESS) {
        fprintf(stderr, "rejection_sample: %s\n", grpo_last_error());
        return 1;
    }
    printf("| prompts | sampled | passed | kept (distinct) | prompts with any | seconds |\n");
    printf("|---------|---------|--------|-----------------|------------------|---------|\n");
    printf("| %7d | %7d | %6d | %15d | %16d | %7.1f |\n", result.prompts, result.sampled, result.passed, result.kept, result.prompts_with_any, result.seconds);
    printf("wrote %d records to %s\n", kept.count, out_path);
    free(problems);
    grpo_dataset_destroy(&kept);
    grpo_dataset_destroy(&data);
    grpo_tokenizer_destroy(&tokenizer);
    grpo_model_destroy(&model);
    return 0;
}
