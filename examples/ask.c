/* ask: put a question of your own to the model that `make demo` trained, and see its <think>
   and its <answer>.

     build/ask "4+8+1+9+3"
     build/ask --samples 4 "9+8+7+6+5+4+3"
     build/ask --model build/demo/base.ckpt "2+7+5"      the base model, before GRPO

   The question is wrapped in the same prompt template as in examples/r1_zero.c. The demo's model
   knows one task, the sum of 3 to 6 different digits 1-9; try others and watch it fail. */
#define GRPO_IMPLEMENTATION
#include "grpo.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEMPLATE "User: %s. Assistant:" /* as make_prompt in examples/r1_zero.c */

static void usage(const char *program) {
    printf("usage: %s [options] \"QUESTION\"\n"
           "Asks the model trained by `make demo` a question and prints its <think> and <answer>.\n"
           "  --model PATH      checkpoint (default build/demo/r1_zero.ckpt)\n"
           "  --samples N       completions to sample (default 1)\n"
           "  --temperature T   sampling temperature (default 0.6, R1's evaluation setting; top-p 0.95)\n"
           "  --greedy          take the most likely token at every step instead of sampling\n"
           "  --seed N          random seed (default 1)\n"
           "  --help            this text\n", program);
}

/* Prints the text between open and close tags, or "(none)". */
static void print_part(const char *label, const char *text, const char *open, const char *close) {
    const char *start = strstr(text, open), *end = start ? strstr(start + strlen(open), close) : NULL;
    printf("  %s", label);
    if (!start || !end) { printf(" (none)\n"); return; }
    start += strlen(open);
    while (start < end && (*start == '\n' || *start == ' ')) start++;
    printf("\n    ");
    for (const char *c = start; c < end; c++) {
        if (*c == '\n' && c + 1 < end) printf("\n    ");
        else if (*c != '\n') putchar(*c);
    }
    printf("\n");
}

int main(int argc, char **argv) {
    const char *model_path = "build/demo/r1_zero.ckpt", *question = NULL;
    int samples = 1, greedy = 0;
    float temperature = 0.6f;
    unsigned long long seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_value = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(argv[0]); return 0; }
        else if (!strcmp(a, "--model") && has_value) model_path = argv[++i];
        else if (!strcmp(a, "--samples") && has_value) samples = atoi(argv[++i]);
        else if (!strcmp(a, "--temperature") && has_value) temperature = (float)atof(argv[++i]);
        else if (!strcmp(a, "--seed") && has_value) seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(a, "--greedy")) greedy = 1;
        else if (a[0] == '-' && a[1] != '\0' && !(a[1] >= '0' && a[1] <= '9')) { fprintf(stderr, "ask: unknown option or missing value: %s (see --help)\n", a); return 2; }
        else question = a;
    }
    if (!question) { usage(argv[0]); return 2; }
    if (samples < 1 || samples > 64) { fprintf(stderr, "ask: --samples must be 1 to 64\n"); return 2; }

    grpo_model model;
    memset(&model, 0, sizeof model); /* zeroed: the checkpoint's config creates it */
    if (grpo_checkpoint_load(model_path, &model, NULL, NULL) != GRPO_SUCCESS) {
        fprintf(stderr, "ask: %s\n  (run `make demo` first to train the model)\n", grpo_last_error());
        return 1;
    }
    grpo_tokenizer tokenizer = grpo_byte_tokenizer();
    char prompt[512];
    snprintf(prompt, sizeof prompt, TEMPLATE, question);

    /* encode BOS + prompt, as the trainer did */
    int T = model.config.context_length, ids[1024], n = 0;
    ids[0] = tokenizer.bos_id;
    if (tokenizer.encode(&tokenizer, prompt, strlen(prompt), ids + 1, 1023, &n) != GRPO_SUCCESS || n + 1 >= T) {
        fprintf(stderr, "ask: the question is too long for the model's context of %d tokens\n", T);
        return 1;
    }
    int prompt_length = n + 1, max_new = T - prompt_length;
    if (max_new > 160) max_new = 160;
    grpo_generator generator;
    grpo_generator_config limits = {1, samples, max_new, 0};
    grpo_sampling_config sampling = {0};
    sampling.temperature = temperature, sampling.top_p = 0.95f, sampling.greedy = greedy, sampling.seed = seed;
    const grpo_completions *out;
    if (grpo_generator_create(&generator, &model, &limits) != GRPO_SUCCESS ||
        grpo_generate(&generator, &model, ids, &prompt_length, 1, prompt_length, samples, &sampling, &out) != GRPO_SUCCESS) {
        fprintf(stderr, "ask: %s\n", grpo_last_error());
        return 1;
    }
    printf("prompt: %s\n", prompt);
    for (int s = 0; s < samples; s++) {
        char text[4096];
        size_t bytes;
        tokenizer.decode(&tokenizer, out->tokens + (size_t)s * out->max_new_tokens, out->lengths[s], text, sizeof text, &bytes);
        if (samples > 1) printf("\nsample %d:\n", s + 1);
        int formatted = grpo_reward_format(text, bytes) >= 1.0f;
        printf("%d tokens%s, %s\n", out->lengths[s], out->truncated[s] ? " (cut off at the length limit)" : "",
               formatted ? "well-formed (R1's format reward 1)" : "not well-formed (R1's format reward 0); the completion:");
        if (!formatted) {
            printf("    ");
            for (const char *c = text; *c; c++) fputs(*c == '\n' ? "\n    " : (char[2]){*c, 0}, stdout);
            printf("\n");
        }
        print_part("<think>", text, "<think>", "</think>");
        print_part("<answer>", text, "<answer>", "</answer>");
    }
    grpo_generator_destroy(&generator);
    grpo_model_destroy(&model);
    return 0;
}
