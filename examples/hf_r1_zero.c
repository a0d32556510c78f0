/* hf_r1_zero: R1-Zero GRPO on a pretrained Hugging Face model (Llama or Qwen2 family, e.g.
   Qwen2.5-0.5B) from a JSONL dataset, then the trained model saved back as a Hugging Face
   directory that transformers loads.

   The dataset is one JSON object per line, either GSM8K-style
       {"question": "Natalia sold clips to 48 ...", "answer": "... #### 72"}
   (the gold answer is what follows "####") or countdown-style (TinyZero)
       {"nums": [3, 5, 7, 2], "target": 24}
   Prompts use DeepSeek-R1-Zero's template (--chat: Qwen2's ChatML with it as the system turn);
   rewards are the format reward plus accuracy (GSM8K) or the countdown reward.

   Build: make build/hf_r1_zero
   Run:   build/hf_r1_zero --model Qwen2.5-0.5B --data gsm8k.jsonl --steps 100 --out trained
   Metrics go to stdout, one JSON object per step (TRL's names); progress to stderr. */
#define GRPO_IMPLEMENTATION
#include "grpo.h"
#include "model_files.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRY(call) do { if ((call) != GRPO_SUCCESS) { fprintf(stderr, "error: %s\n", grpo_last_error()); return 1; } } while (0)

static const char *r1_system =
    "A conversation between User and Assistant. The user asks a question, and the Assistant solves it. The assistant first "
    "thinks about the reasoning process in the mind and then provides the user with the answer. The reasoning process and "
    "answer are enclosed within <think> </think> and <answer> </answer> tags, respectively, i.e., <think> reasoning process "
    "here </think> <answer> answer here </answer>.";

/* Prints a dataset error (file:line: what) and returns the error code. */
static grpo_result bad_line(const char *format, ...) {
    va_list args;
    va_start(args, format);
    fprintf(stderr, "error: ");
    vfprintf(stderr, format, args);
    fprintf(stderr, "\n");
    va_end(args);
    return GRPO_ERROR_BAD_FILE;
}

static char *copy_text(const char *text, size_t n) {
    char *s = (char *)malloc(n + 1);
    if (s) { memcpy(s, text, n); s[n] = '\0'; }
    return s;
}

/* One line of the dataset as a prompt and a gold answer; *countdown says which kind it was. */
static grpo_result read_example(const grpo_json *json, const char *path, size_t line, int chat, grpo_example *example, int *countdown) {
    const grpo_json_value *root = json->values;
    char question[2048], gold[512], prompt[4096];
    const char *q = grpo_json_string(json, grpo_json_get(json, root, "question"));
    const char *a = grpo_json_string(json, grpo_json_get(json, root, "answer"));
    const grpo_json_value *nums = grpo_json_get(json, root, "nums"), *target = grpo_json_get(json, root, "target");
    if (q && a) {                                     /* GSM8K: the gold is what follows "####" */
        const char *hashes = strstr(a, "####");
        if (!hashes) return bad_line("%s:%zu: \"answer\" has no \"####\" before the final answer", path, line);
        size_t g = 0;
        for (const char *p = hashes + 4; *p && g + 1 < sizeof gold; p++) if (*p != ',') gold[g++] = *p; /* 1,000 -> 1000 */
        gold[g] = '\0';
        snprintf(question, sizeof question, "%s", q);
        *countdown = 0;
    } else if (nums && nums->type == GRPO_JSON_ARRAY && nums->count > 0 && target && target->is_integer) {
        size_t at = 0, g = 0;                         /* countdown: the gold is "n1 n2 ... = target" */
        at += (size_t)snprintf(question + at, sizeof question - at, "Using the numbers [");
        const grpo_json_value *v = grpo_json_first(json, nums);
        for (uint32_t i = 0; i < nums->count; i++, v = grpo_json_next(json, v)) {
            if (!v->is_integer || i >= 32) return bad_line("%s:%zu: \"nums\" must be at most 32 integers", path, line);
            at += (size_t)snprintf(question + at, sizeof question - at, "%s%lld", i ? ", " : "", (long long)v->integer);
            g += (size_t)snprintf(gold + g, sizeof gold - g, "%lld ", (long long)v->integer);
        }
        snprintf(question + at, sizeof question - at, "], create an equation that equals %lld. You can use basic arithmetic operations "
                 "(+, -, *, /) and each number can only be used once. Show your work in <think> </think> tags and return the final "
                 "equation in <answer> </answer> tags, for example <answer> (1 + 2) / 3 </answer>", (long long)target->integer);
        snprintf(gold + g, sizeof gold - g, "= %lld", (long long)target->integer);
        *countdown = 1;
    } else {
        return bad_line("%s:%zu: expected {\"question\", \"answer\"} (GSM8K) or {\"nums\", \"target\"} (countdown)", path, line);
    }
    int n = chat ? grpo_chatml_prompt(r1_system, question, prompt, sizeof prompt) : grpo_r1_zero_prompt(question, prompt, sizeof prompt);
    if (n >= (int)sizeof prompt) return bad_line("%s:%zu: the question is too long", path, line);
    example->prompt = copy_text(prompt, (size_t)n);
    example->gold = copy_text(gold, strlen(gold));
    return example->prompt && example->gold ? GRPO_SUCCESS : bad_line("out of memory");
}

static grpo_result load_dataset(const char *path, int chat, int limit, grpo_example **examples, int *n, int *countdown) {
    grpo_jsonl_reader reader;
    grpo_result r = grpo_jsonl_open(&reader, path);
    if (r) fprintf(stderr, "error: %s\n", grpo_last_error());
    int capacity = 0, done = 0;
    *examples = NULL;
    *n = 0;
    while (!r && !done && (limit <= 0 || *n < limit)) {
        if ((r = grpo_jsonl_next(&reader, &done))) { fprintf(stderr, "error: %s\n", grpo_last_error()); break; }
        if (done) break;
        if (*n == capacity) {
            capacity = capacity ? 2 * capacity : 256;
            grpo_example *bigger = (grpo_example *)realloc(*examples, (size_t)capacity * sizeof **examples);
            if (!bigger) { r = bad_line("out of memory"); break; }
            *examples = bigger;
        }
        int kind = 0;
        if (reader.json.values->type != GRPO_JSON_OBJECT) r = bad_line("%s:%zu: expected a JSON object", path, reader.line);
        else r = read_example(&reader.json, path, reader.line, chat, &(*examples)[*n], &kind);
        if (!r && *n > 0 && kind != *countdown) r = bad_line("%s:%zu: GSM8K and countdown lines are mixed", path, reader.line);
        if (!r) { *countdown = kind; (*n)++; }
    }
    grpo_jsonl_close(&reader);
    if (!r && *n == 0) r = bad_line("%s: no examples", path);
    return r;
}

static void usage(const char *program) {
    printf("usage: %s --model DIR --data FILE.jsonl [options]\n"
           "R1-Zero GRPO on a Hugging Face Llama/Qwen2 model (config.json, *.safetensors, tokenizer.json).\n"
           "  --model DIR        the model directory, e.g. from: huggingface-cli download Qwen/Qwen2.5-0.5B --local-dir DIR\n"
           "  --tokenizer DIR    where tokenizer.json is (default: the model directory)\n"
           "  --data FILE        JSONL, GSM8K ({\"question\", \"answer\"}) or countdown ({\"nums\", \"target\"})\n"
           "  --out DIR          where the trained model is saved (default hf_r1_zero_out)\n"
           "  --steps N          GRPO steps (default 20)\n"
           "  --prompts B        prompts per step (default 4)\n"
           "  --group G          completions per prompt (default 8)\n"
           "  --max-tokens L     completion tokens at most (default 256)\n"
           "  --context T        context length to allocate for (default 768)\n"
           "  --micro-batch M    sequences per forward/backward (default 2; memory grows with it)\n"
           "  --lr X             learning rate (default 1e-6, as TRL)\n"
           "  --beta X           KL coefficient; > 0 keeps a reference copy of the model (default 0)\n"
           "  --temperature X    sampling temperature (default 1.0)\n"
           "  --chat             Qwen2's ChatML template with R1's instructions as the system turn\n"
           "  --limit N          use the first N examples of the dataset\n"
           "  --save-every N     also save to OUT-stepN every N steps (default 0: only at the end)\n"
           "  --seed S           (default 1)\n", program);
}

int main(int argc, char **argv) {
    const char *model_dir = NULL, *tokenizer_dir = NULL, *data = NULL, *out = "hf_r1_zero_out";
    int steps = 20, prompts = 4, group = 8, max_tokens = 256, context = 768, micro = 2, chat = 0, limit = 0, save_every = 0;
    float lr = 1e-6f, beta = 0.0f, temperature = 1.0f;
    unsigned long long seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(argv[0]); return 0; }
        if (!strcmp(a, "--chat")) { chat = 1; continue; }
        if (!v) { fprintf(stderr, "error: %s needs a value (see --help)\n", a); return 2; }
        i++;
        if (!strcmp(a, "--model")) model_dir = v;
        else if (!strcmp(a, "--tokenizer")) tokenizer_dir = v;
        else if (!strcmp(a, "--data")) data = v;
        else if (!strcmp(a, "--out")) out = v;
        else if (!strcmp(a, "--steps")) steps = atoi(v);
        else if (!strcmp(a, "--prompts")) prompts = atoi(v);
        else if (!strcmp(a, "--group")) group = atoi(v);
        else if (!strcmp(a, "--max-tokens")) max_tokens = atoi(v);
        else if (!strcmp(a, "--context")) context = atoi(v);
        else if (!strcmp(a, "--micro-batch")) micro = atoi(v);
        else if (!strcmp(a, "--lr")) lr = (float)atof(v);
        else if (!strcmp(a, "--beta")) beta = (float)atof(v);
        else if (!strcmp(a, "--temperature")) temperature = (float)atof(v);
        else if (!strcmp(a, "--limit")) limit = atoi(v);
        else if (!strcmp(a, "--save-every")) save_every = atoi(v);
        else if (!strcmp(a, "--seed")) seed = strtoull(v, NULL, 10);
        else { fprintf(stderr, "error: unknown option %s (see --help)\n", a); return 2; }
    }
    if (!model_dir || !data) { usage(argv[0]); return 2; }

    /* the model, its tokenizer, the dataset */
    grpo_model model;
    grpo_hf_info info;
    grpo_hf_options options = {0};
    options.context_length = context;
    if (grpo_hf_model_load(&model, model_dir, &options, &info) != GRPO_SUCCESS) {
        /* a model with a shorter max_position_embeddings than --context: take its own */
        options.context_length = 0;
        TRY(grpo_hf_model_load(&model, model_dir, &options, &info));
    }
    grpo_tokenizer tokenizer;
    TRY(grpo_hf_tokenizer_load(&tokenizer, tokenizer_dir ? tokenizer_dir : model_dir, model.config.vocab_size));
    grpo_example *examples;
    int n_examples, countdown = 0;
    if (load_dataset(data, chat, limit, &examples, &n_examples, &countdown)) return 1;
    fprintf(stderr, "%s: %s, %zu parameters, %d layers, d_model %d, vocab %d, context %d; %d %s examples from %s\n", model_dir,
            info.architecture, model.num_parameters, model.config.n_layers, model.config.d_model, model.config.vocab_size,
            model.config.context_length, n_examples, countdown ? "countdown" : "GSM8K", data);

    /* the trainer: R1-Zero's rewards, stop after </answer> or at EOS */
    grpo_reward rewards[2] = {{.kind = GRPO_REWARD_FORMAT}, {.kind = countdown ? GRPO_REWARD_COUNTDOWN : GRPO_REWARD_ACCURACY}};
    static const char *stops[] = {"</answer>"};
    grpo_trainer_config tc = {0};
    tc.prompts_per_step = prompts, tc.group_size = group, tc.max_completion_tokens = max_tokens, tc.micro_batch_size = micro;
    tc.rewards = rewards, tc.n_rewards = 2, tc.tokenizer = &tokenizer, tc.seed = seed;
    tc.loss.beta = beta;
    tc.sampling.temperature = temperature, tc.sampling.stop_strings = stops, tc.sampling.n_stop_strings = 1;
    tc.optimizer.learning_rate = lr;
    grpo_trainer trainer;
    TRY(grpo_trainer_create(&trainer, &model, &tc));

    char line[4096], path[1024];
    int used = 0;
    for (int step = 0; step < steps; step++) {
        if (used >= n_examples) used = 0;  /* the next epoch */
        grpo_metrics m;
        TRY(grpo_trainer_step(&trainer, examples + used, n_examples - used, &m));
        used += m.examples_used;
        grpo_metrics_json(&m, line, sizeof line);
        printf("%s\n", line);
        fflush(stdout);
        fprintf(stderr, "step %d/%d  reward %.3f  length %.0f  %.1f s (generation %.1f s)\n", step + 1, steps, m.reward,
                m.completions_mean_length, m.seconds_total, m.seconds_generation);
        if (save_every > 0 && (step + 1) % save_every == 0 && step + 1 < steps) {
            snprintf(path, sizeof path, "%s-step%d", out, step + 1);
            TRY(grpo_hf_model_save(path, &model, &info));
        }
    }
    TRY(grpo_hf_model_save(out, &model, &info));
    const char *tokenizer_files[] = {"tokenizer.json", "tokenizer_config.json", "generation_config.json", "vocab.json", "merges.txt"};
    for (int i = 0; i < 5; i++) copy_file(i < 2 && tokenizer_dir ? tokenizer_dir : model_dir, out, tokenizer_files[i]);
    fprintf(stderr, "saved %s: config.json, model.safetensors and the tokenizer files; transformers loads it\n", out);
    grpo_trainer_destroy(&trainer);
    grpo_tokenizer_destroy(&tokenizer);
    grpo_model_destroy(&model);
    for (int i = 0; i < n_examples; i++) { free((char *)examples[i].prompt); free((char *)examples[i].gold); }
    free(examples);
    return 0;
}
