/* r1_recipe: DeepSeek-R1's whole recipe (arXiv 2501.12948, SPEC.md section 7) in miniature, on
   the R1-Zero demo's digit-sum task (examples/digit_sum.h).

     make recipe                 all of it, a few minutes
     build/r1_recipe --help      the options

   R1-Zero (examples/r1_zero.c) is GRPO straight on a base model. R1 wraps GRPO in four more
   stages, and this program runs them all, measuring the model on the same held-out problems
   after each one:
   0. The base model: the demo's (SFT from random weights on a mix of worked chains, guesses and
      untagged answers), standing in for DeepSeek-V3-Base. It can reason and seldom does.
   1. Cold start: SFT on a small set of well-formed worked chains -- R1 used thousands of long,
      readable chains of thought, so that RL starts from a model that already answers in form.
      Here 32 chains, 3 epochs: enough to turn the base model's habits halfway round (with 256
      it is at 98 % already and RL has nothing left to do).
   2. Reasoning RL: GRPO with the accuracy and format rewards, as in R1-Zero.
   3. Rejection sampling: k completions per fresh prompt from the RL checkpoint; keep those that
      are correct and well-formed, drop duplicates, write them out as SFT data (JSONL).
   4. SFT on that data, starting again from the base model, as R1 fine-tuned DeepSeek-V3-Base
      (not the RL checkpoint) on its 800 k curated samples for two epochs.
   5. RL again: a second GRPO stage from the model of stage 4.
   After each stage: pass@1 over k samples at temperature 0.6 / top-p 0.95, cons@k (majority
   vote over the k answers), greedy accuracy (reported apart, as R1 does), the format rate and
   the mean completion length (SPEC.md section 8).

   Writes to --out (default build/recipe): summary.json (the table), rejection_sampled.jsonl
   (stage 3's data: prompt, completion, answer), grpo1.jsonl and grpo2.jsonl (one JSON line per
   GRPO step), and a checkpoint after every stage (base, cold_start, grpo1, sft2, r1). */
#define GRPO_IMPLEMENTATION
#include "grpo.h"
#include "digit_sum.h"
#include <sys/stat.h>

typedef struct {
    uint64_t seed;
    const char *out, *base;
    int d_model, n_layers, context;
    int base_steps, batch_size;
    float base_lr;
    int cold_start_examples, cold_start_epochs;
    float sft_lr;
    int grpo1_steps, grpo2_steps, prompts_per_step, group_size, max_completion;
    float grpo_lr, beta;
    int rs_prompts, rs_samples;
    float rs_threshold;
    int sft2_epochs;
    int eval_problems, eval_k;
} settings;

/* One row of the table: the held-out figures after a stage, and what the stage took. */
typedef struct {
    const char *stage;
    grpo_eval_result figures;
    double seconds;
} stage_row;

static void usage(const char *program) {
    printf("usage: %s [options]\n"
           "DeepSeek-R1's recipe in miniature on the digit-sum task: base model, cold-start SFT, GRPO,\n"
           "rejection sampling, SFT on the samples, GRPO again; held-out figures after every stage.\n"
           "  --seed N            random seed (default 1)\n"
           "  --out DIR           where the table, data, logs and checkpoints go (default build/recipe)\n"
           "  --base FILE         start from this base model checkpoint (e.g. build/demo/base.ckpt from\n"
           "                      make demo: the same seed gives the same model) instead of training it\n"
           "  --base-steps N      SFT steps of 32 examples that make the base model (default 800)\n"
           "  --cold-start N      well-formed worked chains for the cold start (default 32)\n"
           "  --grpo-steps N      steps of each GRPO stage, 8 prompts x 8 completions (default 50)\n"
           "  --rs-prompts N      prompts for rejection sampling, 4 samples each (default 1024)\n"
           "  --eval N            held-out problems (default 200), each sampled k = 8 times\n"
           "  --quick             a seconds-long run with a tiny model, to check that every stage runs\n"
           "                      (rejection sampling then keeps every sample: a tiny model is never right)\n"
           "  --help              this text\n", program);
}

static stage_row row(const char *stage, grpo_model *model, const grpo_tokenizer *tokenizer, const settings *s,
                     const held_out_split *held_out, double seconds) {
    stage_row r = {stage, evaluate_held_out(model, tokenizer, held_out, s->eval_k, s->max_completion, s->seed), seconds};
    return r;
}

static void save(const grpo_model *model, const settings *s, const char *name) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.ckpt", s->out, name);
    TRY(grpo_checkpoint_save(path, model, NULL, NULL));
}

int main(int argc, char **argv) {
    settings s = {1, "build/recipe", NULL, 128, 2, 160, 800, 32, 2e-3f, 32, 3, 5e-4f, 50, 50, 8, 8, 112, 5e-5f, 0.01f,
                  1024, 4, 2.0f, 2, 200, 8};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(argv[0]); return 0; }
        if (!strcmp(a, "--quick")) {
            s.d_model = 32, s.base_steps = 10, s.cold_start_examples = 16, s.cold_start_epochs = 1, s.grpo1_steps = s.grpo2_steps = 2;
            s.prompts_per_step = 2, s.group_size = 4, s.rs_prompts = 4, s.rs_samples = 2, s.eval_problems = 6, s.eval_k = 2;
            s.rs_threshold = -1.0f; /* every sample passes (the rewards are >= 0) */
            continue;
        }
        if (!value) { fprintf(stderr, "unknown option or missing value: %s (see --help)\n", a); return 2; }
        if (!strcmp(a, "--seed")) s.seed = strtoull(value, NULL, 10);
        else if (!strcmp(a, "--out")) s.out = value;
        else if (!strcmp(a, "--base")) s.base = value;
        else if (!strcmp(a, "--base-steps")) s.base_steps = atoi(value);
        else if (!strcmp(a, "--cold-start")) s.cold_start_examples = atoi(value);
        else if (!strcmp(a, "--grpo-steps")) s.grpo1_steps = s.grpo2_steps = atoi(value);
        else if (!strcmp(a, "--rs-prompts")) s.rs_prompts = atoi(value);
        else if (!strcmp(a, "--eval")) s.eval_problems = atoi(value);
        else { fprintf(stderr, "unknown option: %s (see --help)\n", a); return 2; }
        i++;
    }
    if (s.base_steps < 1 || s.cold_start_examples < 1 || s.grpo1_steps < 1 || s.rs_prompts < 1 || s.eval_problems < 1) {
        fprintf(stderr, "steps, examples, prompts and --eval must be at least 1\n");
        return 2;
    }
    mkdir(s.out, 0755);
    char path[1024];
    double start = now(), stage_start = start;
    grpo_tokenizer tokenizer = grpo_byte_tokenizer();
    held_out_split held_out;
    held_out_create(&held_out, s.seed, s.eval_problems);
    grpo_dataset held_out_chains = {0}; /* the held-out problems' worked chains: SFT's held-out loss */
    append_reasoned_answers(&held_out_chains, &held_out.set);
    int threads = 1;
#ifdef _OPENMP
    threads = omp_get_max_threads();
#endif
    grpo_stage_config grpo = {s.grpo1_steps, s.prompts_per_step, s.group_size, s.max_completion, s.grpo_lr, s.beta};
    stage_row rows[5];

    /* ---- 0. The base model: the R1-Zero demo's, made the same way from the same seed ---- */
    grpo_model model = {0};
    if (s.base) {
        TRY(grpo_checkpoint_load(s.base, &model, NULL, NULL));
        printf("R1's recipe, seed %llu: base model %s (%zu parameters), %d threads\n", (unsigned long long)s.seed, s.base,
               model.num_parameters, threads);
    } else {
        grpo_config config = {0};
        config.d_model = s.d_model, config.n_layers = s.n_layers, config.n_heads = 4, config.context_length = s.context;
        TRY(grpo_model_create(&model, &config, s.seed));
        printf("R1's recipe, seed %llu: a %zu-parameter model (d_model %d, %d layers), %d threads\n", (unsigned long long)s.seed,
               model.num_parameters, s.d_model, s.n_layers, threads);
        printf("\n0. base model: SFT from random weights, %d steps of %d examples (the R1-Zero demo's)\n", s.base_steps, s.batch_size);
        grpo_rng rng = grpo_rng_seed(s.seed); /* as r1_zero.c: the same seed gives the same base model */
        train_base_model(&model, &tokenizer, &rng, &held_out, s.base_steps, s.batch_size, s.base_lr, start);
    }
    save(&model, &s, "base");
    rows[0] = row("0 base model", &model, &tokenizer, &s, &held_out, now() - stage_start);
    grpo_model base;  /* kept for stage 4, which starts from it again */
    TRY(grpo_model_create_reference(&base, &model));
    /* Each later stage draws its problems and seeds from this stream: loading the base model or
       training it gives the same run from here on. */
    grpo_rng rng = grpo_rng_seed(s.seed * 1000 + 17);

    /* ---- 1. Cold start: SFT on a small set of well-formed worked chains ---- */
    stage_start = now();
    printf("\n1. cold start: SFT on %d well-formed worked chains, %d epochs\n", s.cold_start_examples, s.cold_start_epochs);
    grpo_dataset cold_start = {0};
    problem_set chains;
    problem_set_create(&chains, s.cold_start_examples);
    draw_training_problems(&rng, &held_out, &chains);
    append_reasoned_answers(&cold_start, &chains);
    problem_set_destroy(&chains);
    sft_on(&model, &tokenizer, &cold_start, &held_out_chains, s.cold_start_epochs, 16, s.sft_lr, grpo_rng_next(&rng), start);
    save(&model, &s, "cold_start");
    rows[1] = row("1 cold start (SFT)", &model, &tokenizer, &s, &held_out, now() - stage_start);

    /* ---- 2. Reasoning RL: GRPO with accuracy + format rewards ---- */
    stage_start = now();
    printf("\n2. GRPO: %d steps of %d prompts x %d completions, accuracy + format rewards, lr %.0e, beta %g\n", grpo.steps,
           grpo.prompts_per_step, grpo.group_size, grpo.learning_rate, grpo.beta);
    snprintf(path, sizeof path, "%s/grpo1.jsonl", s.out);
    grpo_stage(&model, &tokenizer, &grpo, &held_out, &rng, path, start);
    save(&model, &s, "grpo1");
    rows[2] = row("2 GRPO", &model, &tokenizer, &s, &held_out, now() - stage_start);

    /* ---- 3. Rejection sampling from the RL checkpoint ---- */
    printf("\n3. rejection sampling: %d samples for each of %d fresh prompts at temperature 1; keep reward >= %g, no duplicates\n",
           s.rs_samples, s.rs_prompts, s.rs_threshold);
    grpo_dataset sampled = {0};
    grpo_rejection_result rs = rejection_sample(&model, &tokenizer, &held_out, &rng, s.rs_prompts, s.rs_samples, s.rs_threshold,
                                                s.max_completion, &sampled, NULL);
    snprintf(path, sizeof path, "%s/rejection_sampled.jsonl", s.out);
    TRY(grpo_dataset_save_jsonl(&sampled, path));
    printf("  written to %s\n", path);

    /* ---- 4. SFT on the rejection-sampled data, from the base model ---- */
    stage_start = now();
    TRY(grpo_model_copy_weights(&model, &base));
    printf("\n4. SFT from the base model on the %d rejection-sampled completions, %d epochs\n", sampled.count, s.sft2_epochs);
    if (sampled.count > 0)
        sft_on(&model, &tokenizer, &sampled, &held_out_chains, s.sft2_epochs, s.batch_size, s.sft_lr, grpo_rng_next(&rng), start);
    else printf("  nothing passed the filter: the base model stays as it is\n");
    save(&model, &s, "sft2");
    rows[3] = row("4 SFT on rejection samples", &model, &tokenizer, &s, &held_out, now() - stage_start + rs.seconds);

    /* ---- 5. RL again ---- */
    stage_start = now();
    grpo.steps = s.grpo2_steps;
    printf("\n5. GRPO again: %d steps\n", grpo.steps);
    snprintf(path, sizeof path, "%s/grpo2.jsonl", s.out);
    grpo_stage(&model, &tokenizer, &grpo, &held_out, &rng, path, start);
    save(&model, &s, "r1");
    rows[4] = row("5 GRPO again", &model, &tokenizer, &s, &held_out, now() - stage_start);

    /* ---- The table ---- */
    double seconds = now() - start;
    printf("\nheld-out, %d problems: pass@1 and cons@%d over k = %d samples at temperature 0.6, top-p 0.95; greedy apart\n",
           held_out.set.n, s.eval_k, s.eval_k);
    printf("  %-28s %8s %8s %8s %8s %8s %9s\n", "stage", "pass@1", "cons@k", "greedy", "format", "length", "seconds");
    for (int r = 0; r < 5; r++) {
        const grpo_eval_result *f = &rows[r].figures;
        printf("  %-28s %6.1f %% %6.1f %% %6.1f %% %6.1f %% %8.1f %9.0f\n", rows[r].stage, 100 * f->pass_at_1, 100 * f->cons_at_k,
               100 * f->greedy_accuracy, 100 * f->format_rate, f->mean_length, rows[r].seconds);
    }
    printf("  (stage 3, rejection sampling: %d of %d samples passed, %d kept; its %.0f s are counted in stage 4's;\n"
           "   the seconds of a stage leave out its evaluation)\n", rs.passed, rs.sampled, rs.kept, rs.seconds);
    printf("summary: pass@1 %.1f %% (base) -> %.1f %% (cold start) -> %.1f %% (GRPO) -> %.1f %% (SFT) -> %.1f %% (GRPO), in %.0f s\n",
           100 * rows[0].figures.pass_at_1, 100 * rows[1].figures.pass_at_1, 100 * rows[2].figures.pass_at_1,
           100 * rows[3].figures.pass_at_1, 100 * rows[4].figures.pass_at_1, seconds);
    snprintf(path, sizeof path, "%s/summary.json", s.out);
    FILE *summary = fopen(path, "w");
    if (!summary) { fprintf(stderr, "error: cannot write %s\n", path); return 1; }
    fprintf(summary, "{\"seed\": %llu, \"parameters\": %zu, \"threads\": %d, \"eval_problems\": %d, \"k\": %d, \"seconds\": %.1f, "
                     "\"cold_start_examples\": %d, \"grpo_steps\": [%d, %d], "
                     "\"rejection_sampling\": {\"prompts\": %d, \"sampled\": %d, \"passed\": %d, \"kept\": %d, \"seconds\": %.1f}, \"stages\": [",
            (unsigned long long)s.seed, model.num_parameters, threads, held_out.set.n, s.eval_k, seconds, s.cold_start_examples,
            s.grpo1_steps, s.grpo2_steps, rs.prompts, rs.sampled, rs.passed, rs.kept, rs.seconds);
    for (int r = 0; r < 5; r++) {
        const grpo_eval_result *f = &rows[r].figures;
        fprintf(summary, "%s{\"stage\": \"%s\", \"pass_at_1\": %.4f, \"cons_at_k\": %.4f, \"greedy\": %.4f, \"format_rate\": %.4f, "
                         "\"mean_length\": %.2f, \"seconds\": %.1f}",
                r ? ", " : "", rows[r].stage, f->pass_at_1, f->cons_at_k, f->greedy_accuracy, f->format_rate, f->mean_length, rows[r].seconds);
    }
    fprintf(summary, "]}\n");
    fclose(summary);
    printf("wrote %s/: summary.json, rejection_sampled.jsonl, grpo1.jsonl, grpo2.jsonl, base/cold_start/grpo1/sft2/r1.ckpt\n", s.out);
    grpo_dataset_destroy(&cold_start);
    grpo_dataset_destroy(&sampled);
    grpo_dataset_destroy(&held_out_chains);
    held_out_destroy(&held_out);
    grpo_model_destroy(&base);
    grpo_model_destroy(&model);
    return 0;
}
