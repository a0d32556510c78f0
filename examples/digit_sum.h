/* digit_sum.h: the task of the R1-Zero demo, shared by the examples built on it (r1_zero.c,
   r1_recipe.c, distill.c): the problems, the held-out split, the worked chains, the prompt,
   and the base model made by SFT; then R1's stages as r1_recipe.c and distill.c run them on
   this task (held-out evaluation, a GRPO stage, SFT on a dataset, rejection sampling), thin
   wrappers over grpo.h's grpo_evaluate, grpo_trainer_step, grpo_sft_train and
   grpo_rejection_sample that add the task's problems, progress lines and compute counts.
   Include it after grpo.h:

       #define GRPO_IMPLEMENTATION
       #include "grpo.h"
       #include "digit_sum.h"

   The task: "7+3+9+4+8+2", the sum of 3 to 6 different digits from 1 to 9. Worked out as a
   running total -- 07+3=10, 10+9=19, 19+4=23, ... -- each step is easy; in one leap it is hard
   for a tiny model. So thinking pays, and reinforcement learning has something to find.

   Everything here is static: each example is one translation unit. */
#ifndef DIGIT_SUM_H
#define DIGIT_SUM_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Examples stop at the first error, with grpo.h's message. */
#define TRY(call) do { if ((call) != GRPO_SUCCESS) { fprintf(stderr, "error: %s\n", grpo_last_error()); exit(1); } } while (0)

static void *checked_calloc(size_t count, size_t size) {
    void *p = calloc(count ? count : 1, size);
    if (!p) { fprintf(stderr, "error: out of memory (%zu x %zu bytes)\n", count, size); exit(1); }
    return p;
}

static double now(void) {
    struct timespec t;
    timespec_get(&t, TIME_UTC);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* ---------------------------------------------------------------------------------------
   The problems */
#define MIN_DIGITS 3
#define MAX_DIGITS 6
#define PROMPT_SIZE 48       /* "User: 7+3+9+4+8+2. Assistant:" and a NUL */
#define COMPLETION_SIZE 192  /* the longest worked chain in the format is 105 bytes */

typedef struct {
    int n, digits[MAX_DIGITS];
    char question[16];   /* "7+3+9+4+8+2" */
    char gold[4];        /* "33" */
} problem;

static void make_problem(grpo_rng *rng, problem *p) {
    int pool[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, sum = 0, at = 0;
    p->n = MIN_DIGITS + (int)(grpo_rng_next(rng) % (MAX_DIGITS - MIN_DIGITS + 1));
    for (int i = 0; i < p->n; i++) { /* different digits: a partial shuffle of 1..9 */
        int j = i + (int)(grpo_rng_next(rng) % (uint64_t)(9 - i)), swap = pool[i];
        pool[i] = pool[j], pool[j] = swap;
        p->digits[i] = pool[i];
        sum += pool[i];
        at += snprintf(p->question + at, sizeof p->question - (size_t)at, i ? "+%d" : "%d", pool[i]);
    }
    snprintf(p->gold, sizeof p->gold, "%d", sum);
}

/* The worked chain: a running total, one addition per line, totals written with two digits
   so that every line has the same shape ("19+4=23"); a tiny model finds its way around that
   easily. Different digits matter too: "the digit after the 4" is never ambiguous. */
static void write_chain(const problem *p, char *out, size_t size) {
    int total = p->digits[0], at = 0;
    for (int i = 1; i < p->n; i++) {
        at += snprintf(out + at, size - (size_t)at, "%02d+%d=%02d\n", total, p->digits[i], total + p->digits[i]);
        total += p->digits[i];
    }
}

/* The worked chain in R1's format: what a well-formed, correct answer looks like. */
static void write_reasoned_answer(const problem *p, char *out, size_t size) {
    char chain[128];
    write_chain(p, chain, sizeof chain);
    snprintf(out, size, "<think>\n%s</think>\n<answer>%s</answer>", chain, p->gold);
}

/* The prompt. R1-Zero's template (grpo_r1_zero_prompt) wraps the question in 418 bytes of
   English: for a byte-level model 418 tokens, four times the question and the longest answer
   together. A model trained from random weights cannot read English; to it the template would
   be a constant prefix that makes every training row 4.7x longer (a context of 512 instead of
   160) and the demo several times slower. So we keep the template's frame, the part this model
   does see: "User: <question>. Assistant:". */
static void make_prompt(const problem *p, char *out, size_t size) {
    snprintf(out, size, "User: %s. Assistant:", p->question);
}

/* ---------------------------------------------------------------------------------------
   The held-out split. Held-out problems are never trained on: a problem is known by its list
   of digits, and training problems are drawn again until they are not held out. */
static uint64_t problem_key(const problem *p) {
    uint64_t key = 0;
    for (int i = 0; i < p->n; i++) key = key * 10 + (uint64_t)p->digits[i];
    return key;
}
static int compare_keys(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}
typedef struct { uint64_t *keys; int n; } key_set; /* sorted */

static void make_training_problem(grpo_rng *rng, const key_set *held_out, problem *p) {
    uint64_t key;
    do {
        make_problem(rng, p);
        key = problem_key(p);
    } while (bsearch(&key, held_out->keys, (size_t)held_out->n, sizeof key, compare_keys));
}

/* Problems posed as prompts, in the form grpo_trainer_step and grpo_evaluate take them. */
typedef struct {
    int n;
    problem *problems;
    char (*prompts)[PROMPT_SIZE];
    grpo_example *examples;  /* examples[i] = {prompts[i], problems[i].gold} */
} problem_set;

static void problem_set_create(problem_set *set, int n) {
    set->n = n;
    set->problems = (problem *)checked_calloc((size_t)n, sizeof(problem));
    set->prompts = (char (*)[PROMPT_SIZE])checked_calloc((size_t)n, PROMPT_SIZE);
    set->examples = (grpo_example *)checked_calloc((size_t)n, sizeof(grpo_example));
}
static void problem_set_destroy(problem_set *set) {
    free(set->problems), free(set->prompts), free(set->examples);
    memset(set, 0, sizeof *set);
}
static void problem_set_pose(problem_set *set, int i) {
    make_prompt(&set->problems[i], set->prompts[i], PROMPT_SIZE);
    set->examples[i].prompt = set->prompts[i], set->examples[i].gold = set->problems[i].gold;
}

/* The held-out problems: n of them, from their own random stream, so that they are the same
   whatever a run does before or after. */
typedef struct { problem_set set; key_set keys; } held_out_split;

static void held_out_create(held_out_split *held_out, uint64_t seed, int n) {
    problem_set_create(&held_out->set, n);
    held_out->keys.keys = (uint64_t *)checked_calloc((size_t)n, sizeof(uint64_t));
    held_out->keys.n = n;
    grpo_rng rng = grpo_rng_seed(seed + 1000003);
    for (int i = 0; i < n; i++) {
        make_problem(&rng, &held_out->set.problems[i]);
        problem_set_pose(&held_out->set, i);
        held_out->keys.keys[i] = problem_key(&held_out->set.problems[i]);
    }
    qsort(held_out->keys.keys, (size_t)n, sizeof(uint64_t), compare_keys);
}
static void held_out_destroy(held_out_split *held_out) {
    problem_set_destroy(&held_out->set);
    free(held_out->keys.keys);
}

/* Fills set with fresh training problems (never a held-out one). */
static void draw_training_problems(grpo_rng *rng, const held_out_split *held_out, problem_set *set) {
    for (int i = 0; i < set->n; i++) {
        make_training_problem(rng, &held_out->keys, &set->problems[i]);
        problem_set_pose(set, i);
    }
}

/* ---------------------------------------------------------------------------------------
   The base model. R1-Zero began from a pretrained model that could reason but seldom did,
   and used the format now and then. We make one by SFT from random weights on completions in
   four styles. SFT has two phases: first ("pretraining") mostly worked chains, so that the
   model learns to reason; then (its "habits", the last fifth of the steps) mostly guesses.
   Guesses are right half of the time. */
enum { CHAIN, GUESS, ANSWER_ONLY, PLAIN };
static const float style_shares[2][4] = {{0.80f, 0.10f, 0.05f, 0.05f},  /* phase 1 */
                                         {0.15f, 0.45f, 0.20f, 0.20f}}; /* phase 2 */

static void base_completion(const problem *p, int phase, grpo_rng *rng, char *out, size_t size) {
    int guess = atoi(p->gold), style = 0;
    if (grpo_rng_uniform(rng) < 0.5f) guess += (grpo_rng_next(rng) % 2 ? 1 : -1) * (1 + (int)(grpo_rng_next(rng) % 3));
    for (float u = grpo_rng_uniform(rng); style < 3 && u >= style_shares[phase][style]; style++) u -= style_shares[phase][style];
    switch (style) {
    case CHAIN:        /* the worked chain, in the format */
        write_reasoned_answer(p, out, size);
        break;
    case GUESS:        /* the format, but no working */
        snprintf(out, size, "<think>\nthat is easy\n</think>\n<answer>%d</answer>", guess);
        break;
    case ANSWER_ONLY:  /* no think tags: format reward 0 */
        snprintf(out, size, "<answer>%d</answer>", guess);
        break;
    default:           /* plain text: format and accuracy rewards 0 */
        snprintf(out, size, "the sum is %d", guess);
    }
}

/* SFT of a freshly created model into the base model: `steps` steps of batch_size fresh
   training problems each, AdamW at learning_rate with a 5 % warm-up and cosine decay to 10 %,
   weight decay 0.01. Prints the mean loss every 50 steps (seconds counted from `start`).
   Returns the tokens the model was trained on (prompt, completion and EOS, BOS included), for
   compute estimates. */
static double train_base_model(grpo_model *model, const grpo_tokenizer *tokenizer, grpo_rng *rng,
                               const held_out_split *held_out, int steps, int batch_size, float learning_rate, double start) {
    grpo_adamw optimizer;
    grpo_adamw_config adamw = {0};
    adamw.learning_rate = learning_rate, adamw.warmup_steps = steps / 20, adamw.weight_decay = 0.01f;
    adamw.schedule = GRPO_SCHEDULE_COSINE, adamw.total_steps = steps, adamw.min_lr_ratio = 0.1f;
    TRY(grpo_adamw_create(&optimizer, model, &adamw));
    grpo_sft_example *batch = (grpo_sft_example *)checked_calloc((size_t)batch_size, sizeof(grpo_sft_example));
    char (*texts)[2][COMPLETION_SIZE] = checked_calloc((size_t)batch_size, sizeof *texts);
    double loss_sum = 0.0, tokens = 0.0;
    for (int step = 0; step < steps; step++) {
        for (int b = 0; b < batch_size; b++) {
            problem p;
            make_training_problem(rng, &held_out->keys, &p);
            make_prompt(&p, texts[b][0], sizeof texts[b][0]);
            base_completion(&p, step >= steps * 4 / 5, rng, texts[b][1], sizeof texts[b][1]);
            batch[b].prompt = texts[b][0], batch[b].completion = texts[b][1];
            tokens += (double)(strlen(texts[b][0]) + strlen(texts[b][1])) + 2; /* BOS, EOS */
        }
        grpo_sft_metrics m;
        TRY(grpo_sft_step(model, &optimizer, tokenizer, batch, batch_size, &m));
        loss_sum += m.loss;
        if ((step + 1) % 50 == 0 || step + 1 == steps) {
            int n = step % 50 + 1;
            printf("  sft step %4d/%d  loss %.3f  lr %.1e  %4.0f s\n", step + 1, steps, loss_sum / n, m.learning_rate, now() - start);
            fflush(stdout);
            loss_sum = 0.0;
        }
    }
    free(batch), free(texts);
    grpo_adamw_destroy(&optimizer);
    return tokens;
}


/* ---------------------------------------------------------------------------------------
   R1's stages on this task, as r1_recipe.c and distill.c run them. */

/* R1's rule rewards, weight 1 each: is the answer right, is it in the format. */
static const grpo_reward r1_rewards[2] = {{GRPO_REWARD_ACCURACY, 1.0f, NULL, NULL, NULL, 0, 0},
                                          {GRPO_REWARD_FORMAT, 1.0f, NULL, NULL, NULL, 0, 0}};

/* What a stage cost: tokens through forward passes only (sampling, the reference model) and
   through forward + backward (training), and wall seconds. With N parameters that is about
   2N FLOPs per forward token and 6N per trained token (attention's share is left out: at a
   context of 160 and d_model 128 it adds about a tenth). */
typedef struct { double forward_tokens, trained_tokens, seconds; } work;
static double work_flops(const work *w, size_t n_parameters) {
    return (2.0 * w->forward_tokens + 6.0 * w->trained_tokens) * (double)n_parameters;
}

/* A model's held-out figures, R1's evaluation (SPEC.md section 8): k samples per problem at
   temperature 0.6 and top-p 0.95 (the config's zeros) give pass@1, cons@k (majority vote) and
   the format rate; a second, greedy run gives greedy accuracy, reported apart. */
static grpo_eval_result evaluate_held_out(grpo_model *model, const grpo_tokenizer *tokenizer, const held_out_split *held_out,
                                          int k, int max_completion, uint64_t seed) {
    grpo_eval_result result;
    grpo_eval_config eval = {0};
    eval.samples_per_problem = k, eval.max_completion_tokens = max_completion, eval.tokenizer = tokenizer;
    eval.sampling.seed = seed; /* the same random streams for every model */
    eval.greedy_run = 1;
    TRY(grpo_evaluate(model, &eval, held_out->set.examples, held_out->set.n, NULL, &result));
    printf("  -> held-out: pass@1 %.1f %%  cons@%d %.1f %%  greedy %.1f %%  format %.1f %%  length %.1f  (%.0f s)\n",
           100 * result.pass_at_1, k, 100 * result.cons_at_k, 100 * result.greedy_accuracy, 100 * result.format_rate,
           result.mean_length, result.seconds);
    fflush(stdout);
    return result;
}

/* GRPO as the R1-Zero demo runs it: fresh training problems every step, B prompts x G
   completions sampled at temperature 1, accuracy + format rewards, token-level loss, KL (k3)
   to the model the stage starts from. One JSON line per step goes to log_path. */
typedef struct {
    int steps, prompts_per_step, group_size, max_completion;
    float learning_rate, beta;
} grpo_stage_config;

static work grpo_stage(grpo_model *model, const grpo_tokenizer *tokenizer, const grpo_stage_config *c,
                       const held_out_split *held_out, grpo_rng *rng, const char *log_path, double start) {
    work w = {0, 0, now()};
    grpo_trainer_config tc = {0};
    tc.prompts_per_step = c->prompts_per_step, tc.group_size = c->group_size, tc.max_completion_tokens = c->max_completion;
    tc.rewards = r1_rewards, tc.n_rewards = 2, tc.tokenizer = tokenizer, tc.seed = grpo_rng_next(rng);
    tc.sampling.temperature = 1.0f;
    tc.loss.beta = c->beta, tc.loss.loss_type = GRPO_LOSS_DAPO;
    tc.optimizer.learning_rate = c->learning_rate, tc.optimizer.warmup_steps = c->steps / 10;
    grpo_trainer trainer;
    TRY(grpo_trainer_create(&trainer, model, &tc));
    FILE *log = fopen(log_path, "w");
    if (!log) { fprintf(stderr, "error: cannot write %s\n", log_path); exit(1); }
    problem_set batch;
    problem_set_create(&batch, c->prompts_per_step);
    double sums[4] = {0};
    for (int step = 0; step < c->steps; step++) {
        draw_training_problems(rng, held_out, &batch);
        grpo_metrics m = {0};
        TRY(grpo_trainer_step(&trainer, batch.examples, batch.n, &m));
        char line[4096];
        grpo_metrics_json(&m, line, sizeof line);
        fprintf(log, "%s\n", line);
        /* each prompt once per group (prefill, shared-prefix forwards), each completion token once */
        double tokens = (double)batch.n * c->group_size * m.completions_mean_length;
        for (int i = 0; i < batch.n; i++) tokens += 1.0 + (double)strlen(batch.prompts[i]);
        w.forward_tokens += (c->beta > 0 ? 2.0 : 1.0) * tokens; /* sampling, and the reference model */
        w.trained_tokens += tokens;
        double values[4] = {m.reward_means[0], m.reward_means[1], m.completions_mean_length, m.kl};
        for (int k = 0; k < 4; k++) sums[k] += values[k];
        if ((step + 1) % 10 == 0 || step + 1 == c->steps) {
            int n = step % 10 + 1;
            printf("  grpo step %3d/%d  accuracy %.2f  format %.2f  length %5.1f  kl %.4f  %4.0f s\n", step + 1, c->steps,
                   sums[0] / n, sums[1] / n, sums[2] / n, sums[3] / n, now() - start);
            fflush(stdout);
            memset(sums, 0, sizeof sums);
        }
    }
    fclose(log);
    problem_set_destroy(&batch);
    grpo_trainer_destroy(&trainer);
    w.seconds = now() - w.seconds;
    return w;
}

/* ---------------------------------------------------------------------------------------
   SFT on a dataset (grpo_sft_train) and rejection sampling (grpo_rejection_sample). */

/* The problems' worked chains in the format, as SFT data: the cold start's, and an eval set. */
static void append_reasoned_answers(grpo_dataset *data, const problem_set *problems) {
    for (int i = 0; i < problems->n; i++) {
        char completion[COMPLETION_SIZE];
        write_reasoned_answer(&problems->problems[i], completion, sizeof completion);
        TRY(grpo_dataset_append(data, problems->prompts[i], completion, problems->problems[i].gold));
    }
}

static void show_sft_log(void *user, const grpo_sft_log *log) {
    printf("  sft step %4d (epoch %d)  loss %.3f", log->step, log->epoch, log->train_loss);
    if (log->eval_loss == log->eval_loss) printf("  held-out loss %.3f", log->eval_loss); /* NaN: not evaluated */
    printf("  lr %.1e  %4.0f s\n", log->learning_rate, now() - *(const double *)user);
    fflush(stdout);
}

/* SFT on the (prompt, completion) records of data: `epochs` passes, each in a fresh order,
   batches of batch_size, AdamW with a 5 % warm-up and cosine decay to 10 %, weight decay 0.01.
   eval (may be NULL) gives a held-out loss after each epoch. */
static work sft_on(grpo_model *model, const grpo_tokenizer *tokenizer, const grpo_dataset *data, const grpo_dataset *eval,
                   int epochs, int batch_size, float learning_rate, uint64_t seed, double start) {
    work w = {0, 0, now()};
    grpo_sft_config sft = {0};
    sft.batch_size = batch_size, sft.epochs = epochs, sft.seed = seed;
    int steps = grpo_sft_total_steps(data->count, &sft);
    sft.log_every = steps / epochs > 0 ? steps / epochs : 1; /* about once an epoch */
    sft.on_log = show_sft_log, sft.user = &start;
    grpo_adamw optimizer;
    grpo_adamw_config adamw = {0};
    adamw.learning_rate = learning_rate, adamw.warmup_steps = steps / 20, adamw.weight_decay = 0.01f;
    adamw.schedule = GRPO_SCHEDULE_COSINE, adamw.total_steps = steps, adamw.min_lr_ratio = 0.1f;
    TRY(grpo_adamw_create(&optimizer, model, &adamw));
    TRY(grpo_sft_train(model, &optimizer, tokenizer, data, eval, &sft, NULL));
    grpo_adamw_destroy(&optimizer);
    for (int i = 0; i < data->count; i++) /* BOS, prompt, completion, EOS; once per epoch */
        w.trained_tokens += epochs * ((double)strlen(data->records[i].prompt) + (double)strlen(data->records[i].completion) + 2.0);
    w.seconds = now() - w.seconds;
    return w;
}

/* Rejection sampling: `samples` completions for each of n_prompts fresh training problems,
   sampled at temperature 1 (the rollouts' temperature: more variety than 0.6); a completion is
   kept when its reward (accuracy + format) reaches threshold -- 2: correct and well-formed --
   and no kept completion of the same prompt has the same text. Appends to kept; prompt_tokens
   (may be NULL) receives the prompts' tokens, BOS included, for compute estimates. */
static grpo_rejection_result rejection_sample(grpo_model *model, const grpo_tokenizer *tokenizer, const held_out_split *held_out,
                                              grpo_rng *rng, int n_prompts, int samples, float threshold, int max_completion,
                                              grpo_dataset *kept, double *prompt_tokens) {
    problem_set prompts;
    problem_set_create(&prompts, n_prompts);
    draw_training_problems(rng, held_out, &prompts);
    grpo_rejection_config rc = {0};
    rc.samples_per_prompt = samples, rc.threshold = threshold, rc.max_completion_tokens = max_completion;
    rc.sampling.temperature = 1.0f, rc.sampling.seed = grpo_rng_next(rng);
    rc.tokenizer = tokenizer, rc.rewards = r1_rewards, rc.n_rewards = 2;
    grpo_rejection_result result;
    TRY(grpo_rejection_sample(model, &rc, prompts.examples, prompts.n, kept, &result));
    printf("  %d sampled, %d passed (%.1f %%), %d kept after de-duplication, from %d of %d prompts (%.0f s)\n", result.sampled,
           result.passed, 100.0 * result.passed / (result.sampled ? result.sampled : 1), result.kept, result.prompts_with_any,
           result.prompts, result.seconds);
    fflush(stdout);
    if (prompt_tokens) {
        *prompt_tokens = 0.0;
        for (int i = 0; i < prompts.n; i++) *prompt_tokens += 1.0 + (double)strlen(prompts.prompts[i]);
    }
    problem_set_destroy(&prompts);
    return result;
}

#endif /* DIGIT_SUM_H */
