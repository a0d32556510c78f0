/* distill: DeepSeek-R1's distillation finding (arXiv 2501.12948, SPEC.md section 7, item 5),
   at small scale on the R1-Zero demo's digit-sum task (examples/digit_sum.h).

     make distill                all of it, a few minutes
     build/distill --help        the options

   The paper: small models fine-tuned (SFT only) on samples of the big RL-trained R1 reason
   better than the same small models trained by large-scale RL themselves, for far less
   compute. Here, with the same three ingredients in miniature:
   1. Two base models made the same way from the same data (the demo's SFT mix: worked chains,
      guesses, untagged answers): a teacher (d_model 128, 2 layers, the demo's) and a student
      with a quarter of its parameters (d_model 64).
   2. The teacher is trained by GRPO (accuracy + format rewards), as in the R1-Zero demo.
   3. Distillation: rejection sampling from the teacher -- k completions per fresh prompt, keep
      the correct, well-formed ones, no duplicates -- then SFT of the student base on them. No
      RL on the student.
   4. The other path: the same student base trained by GRPO directly, with the teacher's
      settings and as many steps.
   Both students are evaluated on the same held-out problems (pass@1 over k samples at
   temperature 0.6 / top-p 0.95, greedy apart), and each path's compute is counted: FLOPs
   estimated as 2N per token through a forward pass and 6N per token trained (N parameters of
   the model doing the work), and wall seconds.

   Writes to --out (default build/distillation): summary.json (the table), distill.jsonl (the
   teacher's filtered samples: prompt, completion, answer), teacher_grpo.jsonl and
   student_grpo.jsonl (one JSON line per GRPO step), and checkpoints of the four models. */
#define GRPO_IMPLEMENTATION
#include "grpo.h"
#include "digit_sum.h"
#include <sys/stat.h>

typedef struct {
    uint64_t seed;
    const char *out;
    int teacher_d_model, student_d_model, n_layers, context;
    int base_steps, batch_size;
    float base_lr;
    int grpo_steps, prompts_per_step, group_size, max_completion;
    float grpo_lr, beta;
    int rs_prompts, rs_samples;
    float rs_threshold;
    int distill_epochs;
    float distill_lr;
    int eval_problems, eval_k;
} settings;

/* A model made by SFT from random weights into a base model: the demo's recipe, the same
   training problems for teacher and student (the same seed for the data). */
static work make_base(grpo_model *model, int d_model, const settings *s, const grpo_tokenizer *tokenizer,
                      const held_out_split *held_out, const char *name, double start) {
    grpo_config config = {0};
    config.d_model = d_model, config.n_layers = s->n_layers, config.n_heads = 4, config.context_length = s->context;
    TRY(grpo_model_create(model, &config, s->seed));
    printf("\n1. %s base model: %zu parameters (d_model %d, %d layers), SFT from random weights, %d steps of %d examples\n",
           name, model->num_parameters, d_model, s->n_layers, s->base_steps, s->batch_size);
    grpo_rng rng = grpo_rng_seed(s->seed);
    work w = {0, 0, now()};
    w.trained_tokens = train_base_model(model, tokenizer, &rng, held_out, s->base_steps, s->batch_size, s->base_lr, start);
    w.seconds = now() - w.seconds;
    return w;
}

typedef struct {
    const char *model;
    grpo_eval_result figures;
    double gflops_student, gflops_total, seconds;
} table_row;

static void save(const grpo_model *model, const settings *s, const char *name) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.ckpt", s->out, name);
    TRY(grpo_checkpoint_save(path, model, NULL, NULL));
}

static void usage(const char *program) {
    printf("usage: %s [options]\n"
           "DeepSeek-R1's distillation finding in miniature on the digit-sum task: a teacher trained by\n"
           "GRPO; a smaller student distilled by SFT on the teacher's filtered samples; the same student\n"
           "trained by GRPO directly; held-out pass@1 and the compute of each path.\n"
           "  --seed N            random seed (default 1)\n"
           "  --out DIR           where the table, data, logs and checkpoints go (default build/distillation)\n"
           "  --teacher-width N   the teacher's d_model (default 128, 2 layers: the demo's model)\n"
           "  --student-width N   the student's d_model (default 64, 2 layers)\n"
           "  --base-steps N      SFT steps of 32 examples that make each base model (default 800)\n"
           "  --grpo-steps N      GRPO steps of 8 prompts x 8 completions, teacher and student (default 100)\n"
           "  --student-lr X      the student's GRPO learning rate (default: the teacher's, 5e-5)\n"
           "  --rs-prompts N      prompts sampled from the teacher, 4 samples each (default 1024)\n"
           "  --eval N            held-out problems (default 200), each sampled k = 8 times\n"
           "  --quick             a seconds-long run with tiny models, to check that every stage runs\n"
           "                      (rejection sampling then keeps every sample: a tiny model is never right)\n"
           "  --help              this text\n", program);
}

int main(int argc, char **argv) {
    settings s = {1, "build/distillation", 128, 64, 2, 160, 800, 32, 2e-3f, 100, 8, 8, 112, 5e-5f, 0.01f, 1024, 4, 2.0f, 2, 5e-4f, 200, 8};
    float student_lr = 0.0f;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(argv[0]); return 0; }
        if (!strcmp(a, "--quick")) {
            s.teacher_d_model = 32, s.student_d_model = 16, s.base_steps = 10, s.grpo_steps = 2, s.prompts_per_step = 2, s.group_size = 4;
            s.rs_prompts = 4, s.rs_samples = 2, s.eval_problems = 6, s.eval_k = 2;
            s.rs_threshold = -1.0f; /* every sample passes (the rewards are >= 0) */
            continue;
        }
        if (!value) { fprintf(stderr, "unknown option or missing value: %s (see --help)\n", a); return 2; }
        if (!strcmp(a, "--seed")) s.seed = strtoull(value, NULL, 10);
        else if (!strcmp(a, "--out")) s.out = value;
        else if (!strcmp(a, "--teacher-width")) s.teacher_d_model = atoi(value);
        else if (!strcmp(a, "--student-width")) s.student_d_model = atoi(value);
        else if (!strcmp(a, "--base-steps")) s.base_steps = atoi(value);
        else if (!strcmp(a, "--grpo-steps")) s.grpo_steps = atoi(value);
        else if (!strcmp(a, "--student-lr")) student_lr = (float)atof(value);
        else if (!strcmp(a, "--rs-prompts")) s.rs_prompts = atoi(value);
        else if (!strcmp(a, "--eval")) s.eval_problems = atoi(value);
        else { fprintf(stderr, "unknown option: %s (see --help)\n", a); return 2; }
        i++;
    }
    if (s.base_steps < 1 || s.grpo_steps < 1 || s.rs_prompts < 1 || s.eval_problems < 1) {
        fprintf(stderr, "steps, prompts and --eval must be at least 1\n");
        return 2;
    }
    mkdir(s.out, 0755);
    char path[1024];
    double start = now();
    grpo_tokenizer tokenizer = grpo_byte_tokenizer();
    held_out_split held_out;
    held_out_create(&held_out, s.seed, s.eval_problems);
    int threads = 1;
#ifdef _OPENMP
    threads = omp_get_max_threads();
#endif
    printf("R1's distillation finding, seed %llu, %d threads\n", (unsigned long long)s.seed, threads);
    grpo_stage_config teacher_grpo = {s.grpo_steps, s.prompts_per_step, s.group_size, s.max_completion, s.grpo_lr, s.beta};
    grpo_stage_config student_grpo = teacher_grpo;
    if (student_lr > 0) student_grpo.learning_rate = student_lr;
    grpo_rng rng = grpo_rng_seed(s.seed * 1000 + 29); /* the problems and seeds of everything after the bases */

    /* ---- 1. The two base models, and the teacher's GRPO ---- */
    grpo_model teacher, student_base;
    work teacher_base_cost = make_base(&teacher, s.teacher_d_model, &s, &tokenizer, &held_out, "teacher", start);
    size_t N_teacher = teacher.num_parameters;
    save(&teacher, &s, "teacher_base");
    grpo_eval_result teacher_base_figures = evaluate_held_out(&teacher, &tokenizer, &held_out, s.eval_k, s.max_completion, s.seed);
    work student_base_cost = make_base(&student_base, s.student_d_model, &s, &tokenizer, &held_out, "student", start);
    size_t N_student = student_base.num_parameters;
    save(&student_base, &s, "student_base");
    grpo_eval_result student_base_figures = evaluate_held_out(&student_base, &tokenizer, &held_out, s.eval_k, s.max_completion, s.seed);

    printf("\n2. the teacher's GRPO: %d steps of %d prompts x %d completions, accuracy + format rewards, lr %.0e, beta %g\n",
           teacher_grpo.steps, teacher_grpo.prompts_per_step, teacher_grpo.group_size, teacher_grpo.learning_rate, teacher_grpo.beta);
    snprintf(path, sizeof path, "%s/teacher_grpo.jsonl", s.out);
    work teacher_grpo_cost = grpo_stage(&teacher, &tokenizer, &teacher_grpo, &held_out, &rng, path, start);
    save(&teacher, &s, "teacher");
    grpo_eval_result teacher_figures = evaluate_held_out(&teacher, &tokenizer, &held_out, s.eval_k, s.max_completion, s.seed);

    /* ---- 3. Distillation: the teacher's filtered samples, then SFT of the student base ---- */
    printf("\n3. distillation: %d teacher samples for each of %d fresh prompts at temperature 1; keep reward >= %g, no duplicates\n",
           s.rs_samples, s.rs_prompts, s.rs_threshold);
    grpo_dataset samples = {0};
    double prompt_tokens;
    grpo_rejection_result rs = rejection_sample(&teacher, &tokenizer, &held_out, &rng, s.rs_prompts, s.rs_samples, s.rs_threshold,
                                                s.max_completion, &samples, &prompt_tokens);
    snprintf(path, sizeof path, "%s/distill.jsonl", s.out);
    TRY(grpo_dataset_save_jsonl(&samples, path));
    printf("  written to %s\n", path);
    /* The sampling's cost: each prompt once and each sampled token once through the teacher. The
       rejection sampler does not count the tokens it samples: the teacher's held-out mean length
       stands in for their mean (at temperature 0.6 rather than 1). */
    work sampling_cost = {prompt_tokens + (double)rs.sampled * teacher_figures.mean_length, 0, rs.seconds};
    grpo_model distilled;  /* a copy of the student base */
    TRY(grpo_model_create(&distilled, &student_base.config, s.seed));
    TRY(grpo_model_copy_weights(&distilled, &student_base));
    work distill_cost = {0, 0, 0};
    printf("  SFT of the student base on them, %d epochs\n", s.distill_epochs);
    if (samples.count > 0)
        distill_cost = sft_on(&distilled, &tokenizer, &samples, NULL, s.distill_epochs, s.batch_size, s.distill_lr, grpo_rng_next(&rng), start);
    else printf("  nothing passed the filter: the student base stays as it is\n");
    save(&distilled, &s, "student_distilled");
    grpo_eval_result distilled_figures = evaluate_held_out(&distilled, &tokenizer, &held_out, s.eval_k, s.max_completion, s.seed);

    /* ---- 4. The same student base, trained by GRPO directly ---- */
    printf("\n4. the student's own GRPO: %d steps, lr %.0e\n", student_grpo.steps, student_grpo.learning_rate);
    grpo_model *student = &student_base;   /* trained in place: the base's figures are already taken */
    snprintf(path, sizeof path, "%s/student_grpo.jsonl", s.out);
    work student_grpo_cost = grpo_stage(student, &tokenizer, &student_grpo, &held_out, &rng, path, start);
    save(student, &s, "student_grpo");
    grpo_eval_result student_figures = evaluate_held_out(student, &tokenizer, &held_out, s.eval_k, s.max_completion, s.seed);

    /* ---- The table. Compute beyond the student base, which both paths share: distillation
       pays for the teacher's RL and sampling (the teacher's own base, like DeepSeek-V3's
       pretraining, is listed apart) and the student's SFT; the other path for the student's RL. */
    double giga = 1e9;
    double distill_student = work_flops(&distill_cost, N_student) / giga;
    double distill_total = distill_student + (work_flops(&teacher_grpo_cost, N_teacher) + work_flops(&sampling_cost, N_teacher)) / giga;
    double grpo_student = work_flops(&student_grpo_cost, N_student) / giga;
    table_row rows[5] = {
        {"teacher base (SFT)", teacher_base_figures, 0, work_flops(&teacher_base_cost, N_teacher) / giga, teacher_base_cost.seconds},
        {"teacher after GRPO", teacher_figures, 0, work_flops(&teacher_grpo_cost, N_teacher) / giga, teacher_grpo_cost.seconds},
        {"student base (SFT)", student_base_figures, work_flops(&student_base_cost, N_student) / giga,
         work_flops(&student_base_cost, N_student) / giga, student_base_cost.seconds},
        {"student distilled from teacher", distilled_figures, distill_student, distill_total,
         distill_cost.seconds + sampling_cost.seconds + teacher_grpo_cost.seconds},
        {"student by GRPO directly", student_figures, grpo_student, grpo_student, student_grpo_cost.seconds},
    };
    double seconds = now() - start;
    printf("\nheld-out, %d problems: pass@1 and cons@%d over k = %d samples at temperature 0.6, top-p 0.95; greedy apart\n",
           held_out.set.n, s.eval_k, s.eval_k);
    printf("teacher %zu parameters, student %zu; compute in GFLOPs (2N per forward token, 6N per trained token)\n", N_teacher, N_student);
    printf("  %-31s %8s %8s %8s %8s %7s %15s %13s %8s\n", "model", "pass@1", "cons@k", "greedy", "format", "length",
           "GFLOP (student)", "GFLOP (total)", "seconds");
    for (int r = 0; r < 5; r++) {
        const grpo_eval_result *f = &rows[r].figures;
        printf("  %-31s %6.1f %% %6.1f %% %6.1f %% %6.1f %% %7.1f %15.0f %13.0f %8.0f\n", rows[r].model, 100 * f->pass_at_1,
               100 * f->cons_at_k, 100 * f->greedy_accuracy, 100 * f->format_rate, f->mean_length, rows[r].gflops_student,
               rows[r].gflops_total, rows[r].seconds);
    }
    printf("  (the student paths count what they add to the student base: distillation the teacher's GRPO, its %d\n"
           "   samples and the student's SFT on the %d kept; the other path the student's GRPO. Seconds leave out evaluation)\n",
           rs.sampled, rs.kept);
    printf("summary: student pass@1 %.1f %% distilled vs %.1f %% by GRPO directly (base %.1f %%, teacher %.1f %%); "
           "student compute %.0f vs %.0f GFLOP; in %.0f s\n",
           100 * distilled_figures.pass_at_1, 100 * student_figures.pass_at_1, 100 * student_base_figures.pass_at_1,
           100 * teacher_figures.pass_at_1, distill_student, grpo_student, seconds);
    snprintf(path, sizeof path, "%s/summary.json", s.out);
    FILE *summary = fopen(path, "w");
    if (!summary) { fprintf(stderr, "error: cannot write %s\n", path); return 1; }
    fprintf(summary, "{\"seed\": %llu, \"threads\": %d, \"teacher_parameters\": %zu, \"student_parameters\": %zu, \"eval_problems\": %d, "
                     "\"k\": %d, \"seconds\": %.1f, \"grpo_steps\": %d, "
                     "\"rejection_sampling\": {\"prompts\": %d, \"sampled\": %d, \"passed\": %d, \"kept\": %d}, \"models\": [",
            (unsigned long long)s.seed, threads, N_teacher, N_student, held_out.set.n, s.eval_k, seconds, s.grpo_steps,
            rs.prompts, rs.sampled, rs.passed, rs.kept);
    for (int r = 0; r < 5; r++) {
        const grpo_eval_result *f = &rows[r].figures;
        fprintf(summary, "%s{\"model\": \"%s\", \"pass_at_1\": %.4f, \"cons_at_k\": %.4f, \"greedy\": %.4f, \"format_rate\": %.4f, "
                         "\"mean_length\": %.2f, \"gflops_student\": %.2f, \"gflops_total\": %.2f, \"seconds\": %.1f}",
                r ? ", " : "", rows[r].model, f->pass_at_1, f->cons_at_k, f->greedy_accuracy, f->format_rate, f->mean_length,
                rows[r].gflops_student, rows[r].gflops_total, rows[r].seconds);
    }
    fprintf(summary, "]}\n");
    fclose(summary);
    printf("wrote %s/: summary.json, distill.jsonl, teacher_grpo.jsonl, student_grpo.jsonl, and the models' checkpoints\n", s.out);
    grpo_dataset_destroy(&samples);
    held_out_destroy(&held_out);
    grpo_model_destroy(&teacher);
    grpo_model_destroy(&distilled);
    grpo_model_destroy(&student_base);
    return 0;
}
