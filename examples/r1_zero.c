/* r1_zero: DeepSeek-R1-Zero in miniature. A tiny byte-level transformer is taught, from random
   weights, to add up a few digits; then reinforcement learning with two rule rewards -- is the
   answer right? is it written <think>...</think> <answer>...</answer>? -- and no teacher makes
   it reason step by step, every time.

     make demo                   all of it: SFT, GRPO, evaluation, a plot (a few minutes)
     build/r1_zero --help        the options
     build/ask "4+8+1+9+3"       ask the trained model a question of your own

   The story, as in the paper (arXiv 2501.12948):
   1. A task where thinking pays. "7+3+9+4+8+2": the sum of 3 to 6 different digits. Worked out
      as a running total -- 07+3=10, 10+9=19, 19+4=23, ... -- each step is easy; in one leap it
      is hard for a tiny model. The task lives in examples/digit_sum.h, which r1_recipe.c (R1's
      whole recipe) and distill.c (distillation against RL) share.
   2. A base model. R1-Zero began from a pretrained model that could reason but seldom did, and
      used the format now and then. We make one by supervised fine-tuning (SFT) on a mix of
      styles: worked chains, answers guessed without working, answers without the tags
      (train_base_model in digit_sum.h).
   3. GRPO (grpo.h's trainer) with accuracy + format rewards. For every prompt it samples a
      group of answers and makes the ones that score above the group's mean more likely. Which
      style scores best is for the policy to find out: nothing tells it.
   4. Evaluation on held-out problems that no training step saw: pass@1 over k samples at
      temperature 0.6, top-p 0.95 (R1's protocol, SPEC.md section 8) and the format rate, before
      and after GRPO. The mean completion length, logged every step, grows as the policy learns
      to spend tokens on working.

   Writes to --out (default build/demo): metrics.jsonl (one JSON line per GRPO step), samples.txt
   (completions before and after GRPO), summary.json, base.ckpt (after SFT), r1_zero.ckpt
   (after GRPO). build/plot draws metrics.jsonl as an SVG. */
#define GRPO_IMPLEMENTATION
#include "grpo.h"
#include "digit_sum.h"  /* 1. the task, and 2. the base model's SFT data: read it with this file */
#include <sys/stat.h>

/* ---------------------------------------------------------------------------------------
   Settings, progress, samples */
typedef struct {
    uint64_t seed;
    const char *out;
    int d_model, n_layers, context;
    int sft_steps, sft_batch;
    float sft_lr;
    int grpo_steps, prompts_per_step, group_size, max_completion;
    float grpo_lr, beta;
    int eval_problems, eval_k;
} settings;

/* grpo_evaluate calls this for every completion; we show the first sample of the first six
   problems, to see what the model writes before and after GRPO. */
typedef struct { FILE *file; const grpo_example *problems; } sample_log;
static void show_sample(void *user, int problem_index, int sample, const char *completion, int correct, int formatted) {
    sample_log *log = (sample_log *)user;
    if (problem_index >= 6 || sample > 0) return;
    for (FILE *f = stdout; f; f = f == stdout ? log->file : NULL) {
        fprintf(f, "  %s  (gold %s: %s, %s)\n    ", log->problems[problem_index].prompt, log->problems[problem_index].gold,
                correct ? "correct" : "wrong", formatted ? "well-formed" : "not well-formed");
        for (const char *c = completion; *c; c++) fputs(*c == '\n' ? "\n    " : (char[2]){*c, 0}, f);
        fputc('\n', f);
    }
}

static grpo_eval_result evaluate(grpo_model *model, const grpo_tokenizer *tok, const settings *s,
                                 const grpo_example *held_out, const char *title, FILE *samples) {
    grpo_eval_config eval = {0};   /* sampling zero means R1's: temperature 0.6, top-p 0.95 */
    eval.samples_per_problem = s->eval_k, eval.max_completion_tokens = s->max_completion, eval.tokenizer = tok;
    eval.sampling.seed = s->seed;  /* the same samples' random streams before and after GRPO */
    sample_log log = {samples, held_out};
    eval.on_completion = show_sample, eval.user = &log;
    printf("\n%s on %d held-out problems (pass@1 over k = %d samples, temperature 0.6, top-p 0.95):\n", title, s->eval_problems, s->eval_k);
    if (samples) fprintf(samples, "%s, held-out problems:\n", title);
    grpo_eval_result result;
    TRY(grpo_evaluate(model, &eval, held_out, s->eval_problems, NULL, &result));
    printf("  pass@1 %.1f %%   format %.1f %%   mean length %.1f tokens   (%.0f s)\n",
           100 * result.pass_at_1, 100 * result.format_rate, result.mean_length, result.seconds);
    return result;
}

static void usage(const char *program) {
    printf("usage: %s [options]\n"
           "DeepSeek-R1-Zero in miniature: SFT a tiny byte-level model into a base model, run GRPO with\n"
           "accuracy + format rewards, evaluate on held-out problems before and after.\n"
           "  --seed N          random seed (default 1)\n"
           "  --out DIR         where logs and checkpoints go (default build/demo)\n"
           "  --sft-steps N     supervised steps of 32 examples (default 800)\n"
           "  --grpo-steps N    GRPO steps of 8 prompts x 8 completions (default 100)\n"
           "  --grpo-lr X       GRPO learning rate (default 5e-5; try 5e-4 and watch it fall apart)\n"
           "  --beta X          KL coefficient (default 0.01)\n"
           "  --eval N          held-out problems (default 200), each sampled k = 8 times\n"
           "  --quick, --smoke  a seconds-long run with a tiny model, to check that everything works\n"
           "  --help            this text\n", program);
}

int main(int argc, char **argv) {
    settings s = {1, "build/demo", 128, 2, 160, 800, 32, 2e-3f, 100, 8, 8, 112, 5e-5f, 0.01f, 200, 8};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(argv[0]); return 0; }
        if (!strcmp(a, "--smoke") || !strcmp(a, "--quick")) { s.d_model = 32, s.sft_steps = 10, s.grpo_steps = 3, s.prompts_per_step = 2, s.group_size = 4, s.eval_problems = 6, s.eval_k = 2; continue; }
        if (!value) { fprintf(stderr, "unknown option or missing value: %s (see --help)\n", a); return 2; }
        if (!strcmp(a, "--seed")) s.seed = strtoull(value, NULL, 10);
        else if (!strcmp(a, "--out")) s.out = value;
        else if (!strcmp(a, "--sft-steps")) s.sft_steps = atoi(value);
        else if (!strcmp(a, "--grpo-steps")) s.grpo_steps = atoi(value);
        else if (!strcmp(a, "--grpo-lr")) s.grpo_lr = (float)atof(value);
        else if (!strcmp(a, "--beta")) s.beta = (float)atof(value);
        else if (!strcmp(a, "--eval")) s.eval_problems = atoi(value);
        else { fprintf(stderr, "unknown option: %s (see --help)\n", a); return 2; }
        i++;
    }
    if (s.sft_steps < 1 || s.grpo_steps < 1 || s.eval_problems < 1) { fprintf(stderr, "steps and --eval must be at least 1\n"); return 2; }
    mkdir(s.out, 0755);
    char path[1024];
    double start = now();
    grpo_tokenizer tokenizer = grpo_byte_tokenizer();
    grpo_rng rng = grpo_rng_seed(s.seed);

    /* The held-out problems come first, from their own random stream. */
    held_out_split held_out;
    held_out_create(&held_out, s.seed, s.eval_problems);
    const grpo_example *held_out_examples = held_out.set.examples;

    /* ---- 2. The base model: SFT from random weights on the mix of styles ---- */
    grpo_config config = {0};  /* zero means default: byte vocabulary, RoPE, SwiGLU, tied head */
    config.d_model = s.d_model, config.n_layers = s.n_layers, config.n_heads = 4, config.context_length = s.context;
    grpo_model model;
    TRY(grpo_model_create(&model, &config, s.seed));
    int threads = 1;
#ifdef _OPENMP
    threads = omp_get_max_threads();
#endif
    printf("R1-Zero demo, seed %llu: a %zu-parameter model (d_model %d, %d layers, context %d), %d threads\n",
           (unsigned long long)s.seed, model.num_parameters, s.d_model, s.n_layers, s.context, threads);
    printf("\nSFT into a base model: %d steps of %d examples, from random weights\n", s.sft_steps, s.sft_batch);
    double sft_start = now(); /* AdamW, cosine schedule; the data: digit_sum.h */
    train_base_model(&model, &tokenizer, &rng, &held_out, s.sft_steps, s.sft_batch, s.sft_lr, start);
    double sft_seconds = now() - sft_start;
    snprintf(path, sizeof path, "%s/base.ckpt", s.out);
    TRY(grpo_checkpoint_save(path, &model, NULL, NULL));

    /* ---- 4a. The base model on the held-out problems ---- */
    snprintf(path, sizeof path, "%s/samples.txt", s.out);
    FILE *samples = fopen(path, "w");
    grpo_eval_result before = evaluate(&model, &tokenizer, &s, held_out_examples, "base model", samples);

    /* ---- 3. GRPO with the accuracy and format rewards ---- */
    grpo_trainer_config tc = {0};
    tc.prompts_per_step = s.prompts_per_step, tc.group_size = s.group_size, tc.max_completion_tokens = s.max_completion;
    tc.rewards = r1_rewards, tc.n_rewards = 2;   /* accuracy and format, weight 1 each (digit_sum.h) */
    tc.tokenizer = &tokenizer, tc.seed = s.seed;
    tc.sampling.temperature = 1.0f;              /* R1-Zero samples its rollouts at temperature 1 */
    tc.loss.beta = s.beta;                       /* KL to the base model, k3 estimator */
    tc.loss.loss_type = GRPO_LOSS_DAPO;          /* token-level: a long answer gains no weight just by being long */
    tc.optimizer.learning_rate = s.grpo_lr, tc.optimizer.warmup_steps = 10;
    grpo_trainer trainer;
    TRY(grpo_trainer_create(&trainer, &model, &tc));
    snprintf(path, sizeof path, "%s/metrics.jsonl", s.out);
    FILE *metrics_log = fopen(path, "w");
    if (!metrics_log) { fprintf(stderr, "error: cannot write %s\n", path); return 1; }
    int B = s.prompts_per_step;
    problem_set step_problems;
    problem_set_create(&step_problems, B);
    printf("\nGRPO: %d steps of %d prompts x %d completions, rewards accuracy + format, lr %.0e, beta %g\n",
           s.grpo_steps, B, s.group_size, s.grpo_lr, s.beta);
    printf("  (means over 5 steps of the rollouts, sampled at temperature 1: accuracy and format are the shares that score 1)\n");
    double grpo_start = now(), sums[5] = {0};
    for (int step = 0; step < s.grpo_steps; step++) {
        draw_training_problems(&rng, &held_out, &step_problems); /* fresh problems every step, never a held-out one */
        grpo_metrics m;
        TRY(grpo_trainer_step(&trainer, step_problems.examples, B, &m));
        char line[4096];
        grpo_metrics_json(&m, line, sizeof line);
        fprintf(metrics_log, "%s\n", line);
        fflush(metrics_log);
        double values[5] = {m.reward, m.reward_means[0], m.reward_means[1], m.completions_mean_length, m.kl};
        for (int k = 0; k < 5; k++) sums[k] += values[k];
        if ((step + 1) % 5 == 0 || step + 1 == s.grpo_steps) {
            int n = step % 5 + 1;
            double per_step = (now() - grpo_start) / (step + 1);
            printf("  grpo step %3d/%d  reward %.2f  accuracy %.2f  format %.2f  length %5.1f  kl %.4f  %4.0f s (%.1f s/step)\n",
                   step + 1, s.grpo_steps, sums[0] / n, sums[1] / n, sums[2] / n, sums[3] / n, sums[4] / n, now() - start, per_step);
            fflush(stdout);
            memset(sums, 0, sizeof sums);
        }
    }
    fclose(metrics_log);
    double grpo_seconds = now() - grpo_start;
    grpo_trainer_destroy(&trainer);
    snprintf(path, sizeof path, "%s/r1_zero.ckpt", s.out);
    TRY(grpo_checkpoint_save(path, &model, NULL, NULL));

    /* ---- 4b. After GRPO, the same held-out problems and the same random streams ---- */
    if (samples) fprintf(samples, "\n");
    grpo_eval_result after = evaluate(&model, &tokenizer, &s, held_out_examples, "after GRPO", samples);
    if (samples) fclose(samples);

    double seconds = now() - start;
    printf("\n                        base model   after GRPO\n");
    printf("  held-out pass@1         %6.1f %%     %6.1f %%\n", 100 * before.pass_at_1, 100 * after.pass_at_1);
    printf("  format rate             %6.1f %%     %6.1f %%\n", 100 * before.format_rate, 100 * after.format_rate);
    printf("  mean length (tokens)    %6.1f       %6.1f\n", before.mean_length, after.mean_length);
    printf("summary: pass@1 %.1f %% -> %.1f %%, format %.1f %% -> %.1f %%, in %.0f s (SFT %.0f s, GRPO %.0f s, evaluation %.0f s)\n",
           100 * before.pass_at_1, 100 * after.pass_at_1, 100 * before.format_rate, 100 * after.format_rate,
           seconds, sft_seconds, grpo_seconds, before.seconds + after.seconds);
    snprintf(path, sizeof path, "%s/summary.json", s.out);
    FILE *summary = fopen(path, "w");
    if (summary) {
        fprintf(summary, "{\"seed\": %llu, \"parameters\": %zu, \"threads\": %d, \"sft_steps\": %d, \"grpo_steps\": %d, "
                         "\"eval_problems\": %d, \"k\": %d, \"seconds\": %.1f, \"seconds_sft\": %.1f, \"seconds_grpo\": %.1f, \"seconds_eval\": %.1f",
                (unsigned long long)s.seed, model.num_parameters, threads, s.sft_steps, s.grpo_steps, s.eval_problems, s.eval_k,
                seconds, sft_seconds, grpo_seconds, before.seconds + after.seconds);
        const grpo_eval_result *results[2] = {&before, &after};
        for (int r = 0; r < 2; r++)
            fprintf(summary, ", \"%s\": {\"pass_at_1\": %.4f, \"format_rate\": %.4f, \"mean_length\": %.2f}", r ? "grpo" : "base",
                    results[r]->pass_at_1, results[r]->format_rate, results[r]->mean_length);
        fprintf(summary, "}\n");
        fclose(summary);
    }
    printf("wrote %s/: metrics.jsonl, samples.txt, summary.json, base.ckpt, r1_zero.ckpt\n", s.out);
    held_out_destroy(&held_out);
    problem_set_destroy(&step_problems);
    grpo_model_destroy(&model);
    return 0;
}
