/* bench_hf: a real-sized Hugging Face model in grpo.h against transformers, in one run.

   Loads a model directory (e.g. Qwen2.5-0.5B, or a random model of its config made with
   bench/torch_hf.py --make-qwen2.5-0.5b DIR), then measures, best of `repeats`:
     load      grpo_hf_model_load (bf16 -> fp32 conversion included)
     forward   a no-grad forward of B x T tokens (grpo_model_forward, log-probs of targets)
     generate  G completions of N new tokens from one P-token prompt, KV cache, no EOS
   and runs the same work through transformers (bench/torch_hf.py) for the ratios.

   Usage: build/bench_hf --model DIR [--python /usr/bin/python3] [--batch 1] [--tokens 128]
                         [--group 8] [--prompt 64] [--new 32] [--repeats 2] */
#define _POSIX_C_SOURCE 200809L
#define GRPO_IMPLEMENTATION
#include "grpo.h"
#include "bench/bench_common.h"

#define TRY(call) do { if ((call) != GRPO_SUCCESS) { fprintf(stderr, "error: %s\n", grpo_last_error()); return 1; } } while (0)

int main(int argc, char **argv) {
    bench_openblas_at_its_best(argv);
    const char *dir = NULL, *python = "/usr/bin/python3";
    int B = 1, T = 128, G = 8, P = 64, N = 32, repeats = 2;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help")) { printf("usage: %s --model DIR [--python PY] [--batch B] [--tokens T] [--group G] [--prompt P] [--new N] [--repeats R]\n", argv[0]); return 0; }
        if (i + 1 >= argc) { fprintf(stderr, "error: %s needs a value\n", argv[i]); return 2; }
        const char *a = argv[i], *v = argv[++i];
        if (!strcmp(a, "--model")) dir = v;
        else if (!strcmp(a, "--python")) python = v;
        else if (!strcmp(a, "--batch")) B = atoi(v);
        else if (!strcmp(a, "--tokens")) T = atoi(v);
        else if (!strcmp(a, "--group")) G = atoi(v);
        else if (!strcmp(a, "--prompt")) P = atoi(v);
        else if (!strcmp(a, "--new")) N = atoi(v);
        else if (!strcmp(a, "--repeats")) repeats = atoi(v);
        else { fprintf(stderr, "error: unknown option %s\n", a); return 2; }
    }
    if (!dir) { fprintf(stderr, "error: --model DIR is required\n"); return 2; }
    const char *threads = getenv("OMP_NUM_THREADS"), *wait = getenv("OMP_WAIT_POLICY");
    const char *blas = bench_blas_name();
#ifdef GRPO_BENCH_CFLAGS
    printf("setup: %s; BLAS %s; OMP_NUM_THREADS=%s; OMP_WAIT_POLICY=%s\n", GRPO_BENCH_CFLAGS, blas, threads ? threads : "(unset)", wait ? wait : "(unset)");
#endif
    grpo_model model;
    grpo_hf_info info;
    grpo_hf_options options = {P + N > T ? P + N : T};
    double start = bench_now();
    TRY(grpo_hf_model_load(&model, dir, &options, &info));
    double load = bench_now() - start;
    const grpo_config *c = &model.config;
    printf("model: %s, %s, %zu parameters (%.2f GB fp32), %d layers, d_model %d, heads %d/%d, d_ff %d, vocab %d\n", dir,
           info.architecture, model.num_parameters, model.num_parameters * 4e-9, c->n_layers, c->d_model, c->n_heads, c->n_kv_heads, c->d_ff, c->vocab_size);

    /* forward: B x T tokens */
    int *tokens = (int *)malloc(sizeof(int) * (size_t)B * T);
    float *logprobs = (float *)malloc(sizeof(float) * (size_t)B * T);
    grpo_rng rng = grpo_rng_seed(1);
    for (int i = 0; i < B * T; i++) tokens[i] = (int)(grpo_rng_next(&rng) % (uint64_t)c->vocab_size);
    double forward = 1e30;
    for (int r = 0; r < repeats; r++) {
        start = bench_now();
        TRY(grpo_model_forward(&model, tokens, tokens, NULL, B, T, 1.0f, logprobs, NULL));
        double t = bench_now() - start;
        if (t < forward) forward = t;
    }
    /* generation: G completions of N tokens from one P-token prompt */
    grpo_generator gen;
    grpo_generator_config gc = {1, G, N, 0};
    TRY(grpo_generator_create(&gen, &model, &gc));
    int *prompt = (int *)malloc(sizeof(int) * (size_t)P);
    for (int i = 0; i < P; i++) prompt[i] = (int)(grpo_rng_next(&rng) % (uint64_t)c->vocab_size);
    grpo_sampling_config sc;
    memset(&sc, 0, sizeof sc);
    sc.eos_id = -1;
    sc.seed = 3;
    const grpo_completions *out;
    double generate = 1e30;
    for (int r = 0; r < repeats; r++) {
        start = bench_now();
        TRY(grpo_generate(&gen, &model, prompt, &P, 1, P, G, &sc, &out));
        double t = bench_now() - start;
        if (t < generate) generate = t;
    }
    double ours[3] = {load, B * T / forward, G * N / generate};
    printf("grpo.h:       load %.1f s, forward %.0f tokens/s (B %d x T %d), generate %.1f new tokens/s (G %d x %d new, prompt %d)\n",
           ours[0], ours[1], B, T, ours[2], G, N, P);
    grpo_generator_destroy(&gen);
    grpo_model_destroy(&model);

    char command[2048], line[4096];
    snprintf(command, sizeof command, "%s bench/torch_hf.py --model %s --batch %d --tokens %d --group %d --prompt %d --new %d --repeats %d --threads %s",
             python, dir, B, T, G, P, N, repeats, threads ? threads : "2");
    FILE *pipe = popen(command, "r");
    double theirs[3] = {0, 0, 0};
    while (pipe && fgets(line, sizeof line, pipe)) {
        char *at;
        if ((at = strstr(line, "\"load_seconds\": "))) theirs[0] = atof(at + 16);
        if ((at = strstr(line, "\"forward_tokens_per_second\": "))) theirs[1] = atof(at + 29);
        if ((at = strstr(line, "\"generate_new_tokens_per_second\": "))) theirs[2] = atof(at + 34);
        if (strstr(line, "\"torch\"")) printf("transformers: %s", line);
    }
    if (pipe) pclose(pipe);
    if (theirs[1] > 0)
        printf("ratios (grpo.h / transformers): forward %.2fx, generate %.2fx (transformers load %.1f s)\n", ours[1] / theirs[1], ours[2] / theirs[2], theirs[0]);
    else
        printf("transformers: not run (%s failed)\n", command);
    free(tokens); free(logprobs); free(prompt);
    return 0;
}
