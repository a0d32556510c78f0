/* Cross-check of grpo_advantages and grpo_loss (SPEC.md sections 3 to 5) against PyTorch.

   tests/loss_reference.py (an independent PyTorch implementation of the SPEC's advantages,
   per-token loss and aggregation, differentiated by torch autograd in float64) writes
   tests/data/loss_reference.bin: advantage cases (NaN rewards, all-equal groups, G = 1, 2, 8,
   scale group/batch/none, sample/population std) and loss cases (every loss_type x clip regime
   x KL estimator x beta in {0, 0.04}, and eps_low 0.2 / eps_high 0.28), each a micro-batch with
   a ragged mask, an all-zero row, and a grpo_loss_scale unlike the micro-batch's own counts;
   plus batches of 8 split into two micro-batches. The file format is in the script's docstring.

     build/blas/test_loss [FILE]      FILE defaults to tests/data/loss_reference.bin

   Every test is named after its case: "loss <loss_type>/<regime>/<estimator>/beta<b>[/eps..]".
   Besides the reference, dlogprobs is checked against central finite differences of
   grpo_loss itself, and the micro-batch losses against the full batch's. */
#define GRPO_IMPLEMENTATION
#include "grpo.h"
#include "tests/test.h"

#include <float.h>
#include <stdint.h>

/* ---------------------------------------------------------------------------------------
   Tolerances, each with its reason.

   The reference computes in float64 from the same float32 inputs and rounds its outputs to
   float32; grpo.h returns float32. Two roundings of the same number differ by at most about
   1.2e-7 relative (two half-ulps), and grpo.h's own arithmetic (it may use float, expf and
   another summation order) adds rounding of order 1e-7 per token. So:

   LOSS_TOLERANCE 1e-6: |loss - ref| <= 1e-6 * magnitude + 1e-12, where magnitude is the same
   aggregation of |l| (the file holds it): the loss of a micro-batch is a sum of terms of both
   signs (advantages of both signs, k1 of both signs), and the rounding of a sum scales with
   the sum of the absolute values of its terms, not with the (possibly small) result. 1e-6 is
   about ten times the rounding; a wrong normaliser, sign, clip bound or estimator moves the
   loss by 1e-2 relative or more.

   GRADIENT_TOLERANCE 1e-6: dlogprobs in tests/test.h's infinity-norm relative error
   (max|a - b| / max|b|): each entry is one product w * dl, rounded once or a few times.
   Entries the SPEC makes exactly 0 (masked positions; the clipped branch with beta = 0)
   must be exactly 0.

   The KL sum of the stats uses 1e-6 of sum |mask kl| (also in the file); token and clip
   counts are sums of 0/1 and must be exact.

   ADVANTAGE_TOLERANCE 1e-6 (infinity norm): mean and std of a few floats, one division,
   then float32 rounding on both sides; an all-equal group's advantages are 0 in exact
   arithmetic, and the reference's mean can leave ~1e-13 there.

   FD_TOLERANCE 2e-3 (finite differences, relative to the case's largest |dlogprob|) plus the
   losses' rounding: the loss is a function of the float32 log-probs and is returned as a
   float32, so a central difference with step h = 1e-2 carries the rounding of the two losses
   (|loss| FLT_EPSILON / 2 each, divided by 2h; added to the tolerance with a factor 4: it
   dominates where the gradient is small and the loss is not, e.g. dual-clip, where only
   beta kl has a gradient) and a truncation error h^2/6 |f'''/f'| ~ 2e-5 (f is exp-like in lp);
   h is small enough that no ratio crosses a clip bound (every ratio is at least 3% from one,
   h moves it by 1%). A missing or wrong gradient term is off by 1e-1 or more. */
#define LOSS_TOLERANCE 1e-6
#define GRADIENT_TOLERANCE 1e-6
#define ADVANTAGE_TOLERANCE 1e-6
#define FD_TOLERANCE 2e-3
#define FD_STEP 1e-2f

/* ---------------------------------------------------------------------------------------
   The reference file. */
typedef struct {
    char name[49];
    int n_groups, group_size, scale, population_std, zero_std;
    float *rewards, *advantages;
} adv_case;

typedef struct {
    char name[65];
    grpo_loss_config config;
    grpo_loss_scale scale;
    int N, T, has_ref;
    float *lp, *old_lp, *ref_lp, *mask, *advantages; /* (N*T) x 4, (N) */
    float loss, magnitude, *dlogprobs;
    float tokens, kl, kl_magnitude, low_clipped, high_clipped; /* kl NaN: not checked */
} loss_case;

typedef struct {
    float full_loss, *full_dlogprobs, micro_loss, *micro_dlogprobs;
    int sum_equals_full;
} multi_result;

typedef struct {
    char name[65];
    grpo_loss_config config;
    int N, T, split, max_completion_tokens;
    float *lp, *old_lp, *ref_lp, *mask, *advantages;
    multi_result result[4]; /* by grpo_loss_type value */
} multi_case;

static const char *reference_path = "tests/data/loss_reference.bin";
static char load_error[1024] = "";
static unsigned char *file_data;
static size_t file_size, file_offset;
static adv_case *adv_cases;
static loss_case *loss_cases;
static multi_case *multi_cases;
static int n_adv, n_loss, n_multi;

static const unsigned char *take(const char *field, size_t count, size_t element_size) {
    if (count > SIZE_MAX / element_size || file_size - file_offset < count * element_size) {
        snprintf(load_error, sizeof load_error, "'%s' is truncated in field '%s' (needs %zu more bytes at offset %zu, the file has %zu)",
                 reference_path, field, count * element_size, file_offset, file_size);
        return NULL;
    }
    const unsigned char *at = file_data + file_offset;
    file_offset += count * element_size;
    return at;
}
static int take_int(const char *field, int *value) {
    const unsigned char *at = take(field, 1, 4);
    if (at) memcpy(value, at, 4);
    return at != NULL;
}
static int take_float(const char *field, float *value) {
    const unsigned char *at = take(field, 1, 4);
    if (at) memcpy(value, at, 4);
    return at != NULL;
}
static float *take_floats(const char *field, size_t count) {
    const unsigned char *at = take(field, count, 4);
    if (!at) return NULL;
    float *out = (float *)malloc((count ? count : 1) * sizeof(float));
    if (!out) { snprintf(load_error, sizeof load_error, "out of memory reading '%s'", field); return NULL; }
    memcpy(out, at, count * 4);
    return out;
}
static int take_name(char *name, size_t size) {
    const unsigned char *at = take("case name", size, 1);
    if (!at) return 0;
    memcpy(name, at, size);
    name[size] = '\0';
    return 1;
}
static int bad(const char *what, const char *name) {
    snprintf(load_error, sizeof load_error, "'%.300s': %s in case '%.64s'", reference_path, what, name);
    return 0;
}
static int take_config(const char *name, grpo_loss_config *c) {
    return take_float("epsilon_low", &c->epsilon_low) && take_float("epsilon_high", &c->epsilon_high) &&
           take_float("dual_clip", &c->dual_clip) && take_float("beta", &c->beta) ? 1 : bad("truncated config", name);
}
static int take_batch(const char *name, int N, int T, float **lp, float **old_lp, float **ref_lp, float **mask, float **advantages) {
    size_t n = (size_t)N * (size_t)T;
    if (!(*lp = take_floats("logprobs", n)) || !(*old_lp = take_floats("old_logprobs", n)) ||
        !(*ref_lp = take_floats("ref_logprobs", n)) || !(*mask = take_floats("mask", n)) ||
        !(*advantages = take_floats("advantages", (size_t)N)))
        return 0;
    (void)name;
    return 1;
}

static int load_reference(void) {
    uint16_t one = 1;
    if (*(unsigned char *)&one != 1) { snprintf(load_error, sizeof load_error, "the reference file is little-endian and this host is not"); return 1; }
    FILE *f = fopen(reference_path, "rb");
    if (!f) { snprintf(load_error, sizeof load_error, "cannot open '%s' (generate it with /usr/bin/python3 tests/loss_reference.py --out %s)", reference_path, reference_path); return 1; }
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) { fclose(f); snprintf(load_error, sizeof load_error, "cannot size '%s'", reference_path); return 1; }
    file_size = (size_t)size;
    file_data = (unsigned char *)malloc(file_size ? file_size : 1);
    if (!file_data) { fclose(f); snprintf(load_error, sizeof load_error, "out of memory for '%s'", reference_path); return 1; }
    size_t got = fread(file_data, 1, file_size, f);
    fclose(f);
    if (got != file_size) { snprintf(load_error, sizeof load_error, "read error in '%s' (%zu of %zu bytes)", reference_path, got, file_size); return 1; }

    const unsigned char *magic = take("magic", 8, 1);
    if (!magic) return 1;
    if (memcmp(magic, "GRPOLREF", 8) != 0) { snprintf(load_error, sizeof load_error, "'%s': the magic is not \"GRPOLREF\"", reference_path); return 1; }
    int version;
    if (!take_int("version", &version)) return 1;
    if (version != 1) { snprintf(load_error, sizeof load_error, "'%s': version %d, this test reads version 1", reference_path, version); return 1; }

    if (!take_int("n_adv", &n_adv)) return 1;
    if (n_adv < 0 || n_adv > 100000) { snprintf(load_error, sizeof load_error, "'%s': implausible n_adv %d", reference_path, n_adv); return 1; }
    adv_cases = (adv_case *)calloc((size_t)n_adv + 1, sizeof(adv_case));
    if (!adv_cases) { snprintf(load_error, sizeof load_error, "out of memory"); return 1; }
    for (int i = 0; i < n_adv; i++) {
        adv_case *c = &adv_cases[i];
        if (!take_name(c->name, 48) || !take_int("n_groups", &c->n_groups) || !take_int("group_size", &c->group_size) ||
            !take_int("scale", &c->scale) || !take_int("population_std", &c->population_std))
            return 1;
        if (c->n_groups <= 0 || c->group_size <= 0 || c->n_groups > 100000 || c->group_size > 100000 || c->scale < 0 || c->scale > 2)
            return !bad("implausible n_groups, group_size or scale", c->name);
        size_t n = (size_t)c->n_groups * (size_t)c->group_size;
        if (!(c->rewards = take_floats("rewards", n)) || !(c->advantages = take_floats("advantages", n)) ||
            !take_int("zero_std", &c->zero_std))
            return 1;
    }

    if (!take_int("n_loss", &n_loss)) return 1;
    if (n_loss < 0 || n_loss > 100000) { snprintf(load_error, sizeof load_error, "'%s': implausible n_loss %d", reference_path, n_loss); return 1; }
    loss_cases = (loss_case *)calloc((size_t)n_loss + 1, sizeof(loss_case));
    if (!loss_cases) { snprintf(load_error, sizeof load_error, "out of memory"); return 1; }
    for (int i = 0; i < n_loss; i++) {
        loss_case *c = &loss_cases[i];
        int loss_type, kl, total_tokens;
        if (!take_name(c->name, 64) || !take_int("loss_type", &loss_type) || !take_int("kl_estimator", &kl)) return 1;
        if (!take_config(c->name, &c->config)) return 1;
        c->config.loss_type = (grpo_loss_type)loss_type;
        c->config.kl_estimator = (grpo_kl_estimator)kl;
        if (!take_int("total_sequences", &c->scale.total_sequences) || !take_int("total_tokens", &total_tokens) ||
            !take_int("n_micro_batches", &c->scale.n_micro_batches) || !take_int("max_completion_tokens", &c->scale.max_completion_tokens) ||
            !take_int("N", &c->N) || !take_int("T", &c->T) || !take_int("has_ref", &c->has_ref))
            return 1;
        c->scale.total_tokens = total_tokens;
        if (loss_type < 0 || loss_type > 3 || kl < 0 || kl > 3) return !bad("loss_type or kl_estimator out of range", c->name);
        if (c->N <= 0 || c->T <= 0 || c->N > 100000 || c->T > 100000) return !bad("implausible N or T", c->name);
        if (!take_batch(c->name, c->N, c->T, &c->lp, &c->old_lp, &c->ref_lp, &c->mask, &c->advantages)) return 1;
        if (!take_float("loss", &c->loss) || !take_float("loss_magnitude", &c->magnitude) ||
            !(c->dlogprobs = take_floats("dlogprobs", (size_t)c->N * c->T)) || !take_float("stats tokens", &c->tokens) ||
            !take_float("stats kl", &c->kl) || !take_float("stats kl_magnitude", &c->kl_magnitude) ||
            !take_float("stats low_clipped", &c->low_clipped) || !take_float("stats high_clipped", &c->high_clipped))
            return 1;
    }

    if (!take_int("n_multi", &n_multi)) return 1;
    if (n_multi < 0 || n_multi > 1000) { snprintf(load_error, sizeof load_error, "'%s': implausible n_multi %d", reference_path, n_multi); return 1; }
    multi_cases = (multi_case *)calloc((size_t)n_multi + 1, sizeof(multi_case));
    if (!multi_cases) { snprintf(load_error, sizeof load_error, "out of memory"); return 1; }
    for (int i = 0; i < n_multi; i++) {
        multi_case *c = &multi_cases[i];
        int kl;
        if (!take_name(c->name, 64) || !take_int("kl_estimator", &kl)) return 1;
        if (!take_config(c->name, &c->config)) return 1;
        c->config.kl_estimator = (grpo_kl_estimator)kl;
        if (!take_int("N", &c->N) || !take_int("T", &c->T) || !take_int("split", &c->split) ||
            !take_int("max_completion_tokens", &c->max_completion_tokens))
            return 1;
        if (kl < 0 || kl > 3) return !bad("kl_estimator out of range", c->name);
        if (c->N <= 0 || c->T <= 0 || c->N > 100000 || c->T > 100000 || c->split < 0 || c->split > c->N)
            return !bad("implausible N, T or split", c->name);
        if (!take_batch(c->name, c->N, c->T, &c->lp, &c->old_lp, &c->ref_lp, &c->mask, &c->advantages)) return 1;
        size_t n = (size_t)c->N * c->T;
        for (int t = 0; t < 4; t++) {
            multi_result *r = &c->result[t];
            if (!take_float("full_loss", &r->full_loss) || !(r->full_dlogprobs = take_floats("full_dlogprobs", n)) ||
                !take_float("micro_loss_sum", &r->micro_loss) || !(r->micro_dlogprobs = take_floats("micro_dlogprobs", n)) ||
                !take_int("sum_equals_full", &r->sum_equals_full))
                return 1;
        }
    }
    if (file_offset != file_size) {
        snprintf(load_error, sizeof load_error, "'%s': %zu trailing bytes after the last field", reference_path, file_size - file_offset);
        return 1;
    }
    return 0;
}

static void free_reference(void) {
    for (int i = 0; adv_cases && i < n_adv; i++) { free(adv_cases[i].rewards); free(adv_cases[i].advantages); }
    for (int i = 0; loss_cases && i < n_loss; i++) {
        loss_case *c = &loss_cases[i];
        free(c->lp); free(c->old_lp); free(c->ref_lp); free(c->mask); free(c->advantages); free(c->dlogprobs);
    }
    for (int i = 0; multi_cases && i < n_multi; i++) {
        multi_case *c = &multi_cases[i];
        free(c->lp); free(c->old_lp); free(c->ref_lp); free(c->mask); free(c->advantages);
        for (int t = 0; t < 4; t++) { free(c->result[t].full_dlogprobs); free(c->result[t].micro_dlogprobs); }
    }
    free(adv_cases); free(loss_cases); free(multi_cases); free(file_data);
    adv_cases = NULL; loss_cases = NULL; multi_cases = NULL; file_data = NULL;
}

/* ---------------------------------------------------------------------------------------
   The tests. Each runs one case; current says which. */
static int current;
static double max_adv_error, max_loss_error, max_grad_error, max_kl_error, max_fd_error, max_fd_used, max_multi_error;

static void test_reference_file(void) {
    CHECK(load_error[0] == '\0', "%s", load_error);
    if (load_error[0]) return;
    CHECK(n_adv > 0 && n_loss > 0 && n_multi > 0, "the file holds %d advantage, %d loss and %d multi-micro-batch cases; expected some of each", n_adv, n_loss, n_multi);
}

static void test_advantages_case(void) {
    const adv_case *c = &adv_cases[current];
    size_t n = (size_t)c->n_groups * c->group_size;
    float *a = (float *)malloc(n * sizeof(float));
    CHECK(a != NULL, "out of memory");
    if (!a) return;
    for (size_t i = 0; i < n; i++) a[i] = 12345.0f; /* every entry must be written */
    int zero = grpo_advantages(c->rewards, c->n_groups, c->group_size, (grpo_scale_rewards)c->scale, c->population_std, a);
    CHECK(zero == c->zero_std, "zero-std groups: grpo.h %d, reference %d", zero, c->zero_std);
    double err = test_relative_error(a, c->advantages, n); /* ADVANTAGE_TOLERANCE */
    if (err > max_adv_error || err != err) max_adv_error = err;
    CHECK(err <= ADVANTAGE_TOLERANCE, "advantages: rel err %.3e > %.0e", err, ADVANTAGE_TOLERANCE);
    for (size_t i = 0; i < n; i++) {
        CHECK(isfinite(a[i]), "advantage[%zu] = %g is not finite", i, (double)a[i]);
        if (isnan(c->rewards[i])) CHECK(a[i] == 0.0f, "advantage[%zu] = %g for a NaN reward, expected 0", i, (double)a[i]);
        if (!(fabs((double)a[i] - c->advantages[i]) <= ADVANTAGE_TOLERANCE * (fabs((double)c->advantages[i]) + 1.0)))
            CHECK(0, "advantage[%zu] (group %zu) = %.8g, reference %.8g (reward %g)", i, i / (size_t)c->group_size,
                  (double)a[i], (double)c->advantages[i], (double)c->rewards[i]);
    }
    free(a);
}

static float run_loss(const loss_case *c, const float *lp, float *dlogprobs, grpo_loss_stats *stats) {
    return grpo_loss(&c->config, &c->scale, lp, c->old_lp, c->has_ref ? c->ref_lp : NULL, c->advantages, c->mask, c->N, c->T, dlogprobs, stats);
}

static void test_loss_case(void) {
    const loss_case *c = &loss_cases[current];
    size_t n = (size_t)c->N * c->T;
    CHECK(grpo_loss_config_validate(&c->config) == GRPO_SUCCESS, "the case's config does not validate: %s", grpo_last_error());
    float *d = (float *)malloc(n * sizeof(float)), *d2 = (float *)malloc(n * sizeof(float));
    CHECK(d && d2, "out of memory");
    if (!d || !d2) { free(d); free(d2); return; }
    for (size_t i = 0; i < n; i++) d[i] = d2[i] = 12345.0f; /* every entry must be written */
    grpo_loss_stats stats;
    memset(&stats, 0, sizeof stats);
    float loss = run_loss(c, c->lp, d, &stats);

    double tol = LOSS_TOLERANCE * c->magnitude + 1e-12;
    double lerr = fabs((double)loss - c->loss);
    double lrel = lerr / (c->magnitude > 0 ? c->magnitude : 1.0);
    if (lrel > max_loss_error || lrel != lrel) max_loss_error = lrel;
    CHECK(lerr <= tol, "loss %.9g, reference %.9g (|diff| %.3e > %.3e = 1e-6 x magnitude %.4g)", (double)loss, (double)c->loss, lerr, tol, (double)c->magnitude);

    double gerr = test_relative_error(d, c->dlogprobs, n); /* GRADIENT_TOLERANCE */
    if (gerr > max_grad_error || gerr != gerr) max_grad_error = gerr;
    CHECK(gerr <= GRADIENT_TOLERANCE, "dlogprobs: rel err %.3e > %.0e", gerr, GRADIENT_TOLERANCE);
    /* the entries behind a failure, and the exact zeros: masked positions, and the clipped
       branch when beta = 0 */
    double gmax = 0.0;
    for (size_t i = 0; i < n; i++) if (fabs((double)c->dlogprobs[i]) > gmax) gmax = fabs((double)c->dlogprobs[i]);
    int shown = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)d[i] - c->dlogprobs[i]);
        if ((c->dlogprobs[i] == 0.0f && d[i] != 0.0f) || !(e <= GRADIENT_TOLERANCE * gmax)) {
            if (shown++ < 3)
                CHECK(0, "dlogprobs[row %zu, t %zu] = %.9g, reference %.9g (mask %g, ratio %.4g, A %g)", i / (size_t)c->T, i % (size_t)c->T,
                      (double)d[i], (double)c->dlogprobs[i], (double)c->mask[i], exp((double)c->lp[i] - c->old_lp[i]), (double)c->advantages[i / (size_t)c->T]);
        }
        if (c->mask[i] == 0.0f) CHECK(d[i] == 0.0f, "dlogprobs[%zu] = %g at a masked position, expected 0", i, (double)d[i]);
    }

    CHECK(stats.tokens == c->tokens, "stats.tokens %g, reference %g", stats.tokens, (double)c->tokens);
    CHECK(stats.low_clipped == c->low_clipped, "stats.low_clipped %g, reference %g (ratio < 1 - eps_low and A < 0)", stats.low_clipped, (double)c->low_clipped);
    CHECK(stats.high_clipped == c->high_clipped, "stats.high_clipped %g, reference %g (ratio > 1 + eps_high and A > 0)", stats.high_clipped, (double)c->high_clipped);
    if (!isnan(c->kl)) {
        double kerr = fabs(stats.kl - c->kl), ktol = 1e-6 * c->kl_magnitude + 1e-12;
        double krel = kerr / (c->kl_magnitude > 0 ? c->kl_magnitude : 1.0);
        if (krel > max_kl_error) max_kl_error = krel;
        CHECK(kerr <= ktol, "stats.kl %.9g, reference %.9g (|diff| %.3e > %.3e)", stats.kl, (double)c->kl, kerr, ktol);
    }

    /* without stats, the same numbers; with stats, they add up */
    float loss2 = run_loss(c, c->lp, d2, NULL);
    CHECK(loss2 == loss, "loss without stats %.9g, with stats %.9g", (double)loss2, (double)loss);
    CHECK(memcmp(d, d2, n * sizeof(float)) == 0, "dlogprobs differ with and without stats");
    run_loss(c, c->lp, d2, &stats);
    CHECK(stats.tokens == 2.0 * c->tokens, "stats do not accumulate: tokens %g after two calls, expected %g", stats.tokens, 2.0 * c->tokens);
    free(d);
    free(d2);
}

/* dlogprobs against central differences of grpo_loss itself, token by token. */
static void test_finite_differences(void) {
    const loss_case *c = &loss_cases[current];
    size_t n = (size_t)c->N * c->T;
    float *lp = (float *)malloc(n * sizeof(float)), *d = (float *)malloc(n * sizeof(float)), *scratch = (float *)malloc(n * sizeof(float));
    CHECK(lp && d && scratch, "out of memory");
    if (!lp || !d || !scratch) { free(lp); free(d); free(scratch); return; }
    memcpy(lp, c->lp, n * sizeof(float));
    run_loss(c, lp, d, NULL);
    double scale = 0.0, worst = 0.0;
    for (size_t i = 0; i < n; i++) if (fabs((double)d[i]) > scale) scale = fabs((double)d[i]);
    int checked = 0;
    for (size_t i = 0; i < n; i++) {
        if (c->mask[i] == 0.0f) continue;
        float x = c->lp[i], up = x + FD_STEP, down = x - FD_STEP;
        lp[i] = up;
        double f_up = run_loss(c, lp, scratch, NULL);
        lp[i] = down;
        double f_down = run_loss(c, lp, scratch, NULL);
        lp[i] = x;
        double fd = (f_up - f_down) / ((double)up - (double)down);
        /* the float32 losses' rounding, 4x its bound: |f| FLT_EPSILON / 2 each */
        double noise = 4.0 * FLT_EPSILON * fmax(fabs(f_up), fabs(f_down)) / ((double)up - (double)down);
        double e = fabs(fd - d[i]) / (scale > 0 ? scale : 1.0), used = fabs(fd - d[i]) / (FD_TOLERANCE * scale + noise);
        if (e > worst) worst = e;
        if (used > max_fd_used || used != used) max_fd_used = used;
        CHECK(fabs(fd - d[i]) <= FD_TOLERANCE * scale + noise,
              "token (row %zu, t %zu): dlogprobs %.6g, finite difference %.6g (error %.2e of max|d| %.3g; rounding allowance %.2e)",
              i / (size_t)c->T, i % (size_t)c->T, (double)d[i], fd, e, scale, noise);
        checked++;
    }
    if (worst > max_fd_error) max_fd_error = worst;
    CHECK(checked > 0, "no masked token to check");
    free(lp); free(d); free(scratch);
}

/* Masked positions must not matter whatever they hold: padding and masked-out completions
   may carry any log-probs (a -inf, a NaN from a never-written buffer). The reference cannot
   say this (torch's 0 * inf is NaN), so the case is run twice by grpo.h itself: once as in
   the file and once with NaN, +inf and -inf in every masked position of logprobs,
   old_logprobs and ref_logprobs; loss, dlogprobs and stats must be identical. */
static void test_masked_garbage(void) {
    const loss_case *c = &loss_cases[current];
    size_t n = (size_t)c->N * c->T;
    loss_case g = *c;
    float *lp = (float *)malloc(n * sizeof(float)), *old_lp = (float *)malloc(n * sizeof(float)), *ref_lp = (float *)malloc(n * sizeof(float));
    float *d = (float *)malloc(n * sizeof(float)), *dg = (float *)malloc(n * sizeof(float));
    CHECK(lp && old_lp && ref_lp && d && dg, "out of memory");
    if (lp && old_lp && ref_lp && d && dg) {
        const float garbage[3] = {NAN, INFINITY, -INFINITY};
        int masked = 0;
        for (size_t i = 0; i < n; i++) {
            int m = c->mask[i] == 0.0f;
            masked += m;
            lp[i] = m ? garbage[i % 3] : c->lp[i];
            old_lp[i] = m ? garbage[(i + 1) % 3] : c->old_lp[i];
            ref_lp[i] = m ? garbage[(i + 2) % 3] : c->ref_lp[i];
        }
        g.lp = lp; g.old_lp = old_lp; g.ref_lp = ref_lp;
        grpo_loss_stats s1, s2;
        memset(&s1, 0, sizeof s1);
        memset(&s2, 0, sizeof s2);
        float l1 = run_loss(c, c->lp, d, &s1), l2 = run_loss(&g, g.lp, dg, &s2);
        CHECK(masked > 0, "the case has no masked position");
        CHECK(l1 == l2, "loss %.9g with finite padding, %.9g with NaN/inf padding", (double)l1, (double)l2);
        CHECK(memcmp(d, dg, n * sizeof(float)) == 0, "dlogprobs change when masked positions hold NaN/inf");
        CHECK(s1.tokens == s2.tokens && s1.low_clipped == s2.low_clipped && s1.high_clipped == s2.high_clipped &&
              (s1.kl == s2.kl), "stats change when masked positions hold NaN/inf (kl %g vs %g)", s1.kl, s2.kl);
    }
    free(lp); free(old_lp); free(ref_lp); free(d); free(dg);
}

/* One multi-micro-batch case and loss_type: the two micro-batches' losses (scale with
   n_micro_batches 2) and the full batch (n_micro_batches 1), each against the reference, and
   the sum against the full batch where the loss_type makes them equal. */
static int current_type;
static const char *type_names[4] = {"dapo", "grpo", "bnpo", "dr_grpo"};

static void test_multi_case(void) {
    const multi_case *c = &multi_cases[current];
    const multi_result *r = &c->result[current_type];
    size_t n = (size_t)c->N * c->T, first = (size_t)c->split * c->T;
    double tokens = 0.0;
    for (size_t i = 0; i < n; i++) tokens += c->mask[i];
    grpo_loss_config config = c->config;
    config.loss_type = (grpo_loss_type)current_type;
    grpo_loss_scale full_scale = {c->N, tokens, 1, c->max_completion_tokens};
    grpo_loss_scale micro_scale = {c->N, tokens, 2, c->max_completion_tokens};
    float *full = (float *)malloc(n * sizeof(float)), *micro = (float *)malloc(n * sizeof(float));
    CHECK(full && micro, "out of memory");
    if (!full || !micro) { free(full); free(micro); return; }
    grpo_loss_stats full_stats, micro_stats;
    memset(&full_stats, 0, sizeof full_stats);
    memset(&micro_stats, 0, sizeof micro_stats);
    float full_loss = grpo_loss(&config, &full_scale, c->lp, c->old_lp, c->ref_lp, c->advantages, c->mask, c->N, c->T, full, &full_stats);
    float part1 = grpo_loss(&config, &micro_scale, c->lp, c->old_lp, c->ref_lp, c->advantages, c->mask, c->split, c->T, micro, &micro_stats);
    float part2 = grpo_loss(&config, &micro_scale, c->lp + first, c->old_lp + first, c->ref_lp + first, c->advantages + c->split,
                            c->mask + first, c->N - c->split, c->T, micro + first, &micro_stats);
    double micro_loss = (double)part1 + part2;

    double e_full = fabs(full_loss - (double)r->full_loss) / fabs((double)r->full_loss);
    double e_micro = fabs(micro_loss - (double)r->micro_loss) / fabs((double)r->micro_loss);
    double g_full = test_relative_error(full, r->full_dlogprobs, n), g_micro = test_relative_error(micro, r->micro_dlogprobs, n);
    double worst = fmax(fmax(e_full, e_micro), fmax(g_full, g_micro));
    if (worst > max_multi_error || worst != worst) max_multi_error = worst;
    CHECK(e_full <= LOSS_TOLERANCE, "full batch: loss %.9g, reference %.9g (rel err %.3e)", (double)full_loss, (double)r->full_loss, e_full);
    CHECK(e_micro <= LOSS_TOLERANCE, "two micro-batches: loss sum %.9g, reference %.9g (rel err %.3e)", micro_loss, (double)r->micro_loss, e_micro);
    CHECK(g_full <= GRADIENT_TOLERANCE, "full batch: dlogprobs rel err %.3e", g_full);
    CHECK(g_micro <= GRADIENT_TOLERANCE, "two micro-batches: dlogprobs rel err %.3e", g_micro);
    if (r->sum_equals_full) {
        double e = fabs(micro_loss - full_loss) / fabs((double)full_loss), g = test_relative_error(micro, full, n);
        CHECK(e <= LOSS_TOLERANCE, "sum of the micro-batch losses %.9g != full-batch loss %.9g (rel err %.3e)", micro_loss, (double)full_loss, e);
        CHECK(g <= GRADIENT_TOLERANCE, "micro-batch dlogprobs differ from the full batch's (rel err %.3e)", g);
    } else {
        /* bnpo normalises by each micro-batch's tokens: the reference says the sum differs */
        double e = fabs(micro_loss - full_loss) / fabs((double)full_loss);
        CHECK(e > 1e-4, "the micro-batch sum %.9g equals the full batch %.9g, yet the reference says they differ", micro_loss, (double)full_loss);
    }
    CHECK(micro_stats.tokens == full_stats.tokens && micro_stats.low_clipped == full_stats.low_clipped &&
          micro_stats.high_clipped == full_stats.high_clipped && fabs(micro_stats.kl - full_stats.kl) <= 1e-9 * (fabs(full_stats.kl) + 1.0),
          "stats of the two micro-batches (tokens %g, low %g, high %g, kl %.9g) differ from the full batch's (%g, %g, %g, %.9g)",
          micro_stats.tokens, micro_stats.low_clipped, micro_stats.high_clipped, micro_stats.kl,
          full_stats.tokens, full_stats.low_clipped, full_stats.high_clipped, full_stats.kl);
    free(full);
    free(micro);
}

/* The finite-difference cases: every regime and estimator of dapo with beta 0.04, and the
   other loss_types inside the trust region with k3 and k3-importance, and the asymmetric
   epsilons. */
static int wants_finite_differences(const char *name) {
    if (!strstr(name, "/beta0.04")) return 0;
    if (strncmp(name, "dapo/", 5) == 0) return 1;
    if (strstr(name, "/eps")) return 1;
    return strstr(name, "/inside/k3/") != NULL || strstr(name, "/inside/k3imp/") != NULL;
}

int main(int argc, char **argv) {
    if (argc > 1) reference_path = argv[1];
    printf("reference: %s\n", reference_path);
    load_reference();
    TEST(test_reference_file);
    if (load_error[0] == '\0') {
        char name[160];
        for (current = 0; current < n_adv; current++) {
            snprintf(name, sizeof name, "advantages %s", adv_cases[current].name);
            test_run(name, test_advantages_case);
        }
        for (current = 0; current < n_loss; current++) {
            snprintf(name, sizeof name, "loss %s", loss_cases[current].name);
            test_run(name, test_loss_case);
        }
        int n_fd = 0;
        for (current = 0; current < n_loss; current++) {
            if (!wants_finite_differences(loss_cases[current].name)) continue;
            snprintf(name, sizeof name, "finite differences %s", loss_cases[current].name);
            test_run(name, test_finite_differences);
            n_fd++;
        }
        for (current = 0; current < n_loss; current++) {
            /* one case per loss_type and estimator, with beta 0.04 */
            const char *nm = loss_cases[current].name;
            if (!strstr(nm, "/inside/") || !strstr(nm, "/beta0.04") || strstr(nm, "/eps")) continue;
            snprintf(name, sizeof name, "masked positions hold NaN/inf %s", nm);
            test_run(name, test_masked_garbage);
        }
        for (current = 0; current < n_multi; current++)
            for (current_type = 0; current_type < 4; current_type++) {
                snprintf(name, sizeof name, "micro-batches %s %s", multi_cases[current].name, type_names[current_type]);
                test_run(name, test_multi_case);
            }
        printf("    %d advantage cases: max rel err %.3e (tolerance %.0e)\n", n_adv, max_adv_error, ADVANTAGE_TOLERANCE);
        printf("    %d loss cases: max loss err %.3e of magnitude (tolerance %.0e); max dlogprobs rel err %.3e (tolerance %.0e); "
               "max stats.kl err %.3e of sum |kl|\n", n_loss, max_loss_error, LOSS_TOLERANCE, max_grad_error, GRADIENT_TOLERANCE, max_kl_error);
        printf("    %d finite-difference cases: max error %.3e of max|dlogprobs|; at most %.0f%% of the tolerance used "
               "(%.0e of max|dlogprobs| + the rounding of the losses)\n", n_fd, max_fd_error, 100.0 * max_fd_used, FD_TOLERANCE);
        printf("    %d multi-micro-batch cases x 4 loss types: max rel err %.3e\n", n_multi, max_multi_error);
    }
    free_reference();
    return test_finish("test_loss");
}
