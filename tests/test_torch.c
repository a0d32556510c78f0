/* Cross-check of grpo.h against PyTorch autograd on identical weights and inputs.

   tests/torch_reference.py (an independent PyTorch implementation of the same architecture)
   writes tests/data/torch_reference.bin: a config, a batch, the initial weights, and PyTorch's
   logits, log-probs, entropy, loss, the gradient of every parameter tensor, and the losses,
   gradient norms and final weights of 10 AdamW steps. The file format is documented in the
   script's docstring. This program loads the same weights into a grpo_model and checks grpo.h
   against every one of those numbers.

     build/blas/test_torch [FILE]      FILE defaults to tests/data/torch_reference.bin

   Every check prints the measured relative error: max|grpo - torch| / max|torch| over the
   array (tests/test.h's infinity-norm relative error). */
#define GRPO_IMPLEMENTATION
#include "grpo.h"
#include "tests/test.h"

#include <stdint.h>

/* ---------------------------------------------------------------------------------------
   Tolerances, each with its reason.

   FORWARD_TOLERANCE 1e-5 (logits, log-probs, entropy, loss): both sides compute in float32
   (unit roundoff 6e-8) through two layers of 32- and 48-wide dot products, softmaxes and
   RMSNorms; grpo.h uses its own expf (relative error ~2e-7) and sums in other orders than
   PyTorch. That gives errors of a few 1e-7 relative to the largest entry of an array; 1e-5
   leaves over an order of magnitude of margin, yet a wrong formula (a missing bias, a wrong
   rotary pair, a wrong head mapping) moves them by 1e-2 or more.

   GRADIENT_TOLERANCE 1e-4 (every parameter gradient): the backward pass is about twice as
   deep as the forward, and sums over the N = 36 rows and over softmax terms that cancel
   (the Jacobians of softmax and RMSNorm subtract nearly equal numbers), so the rounding of
   the smallest gradient entries is amplified relative to their size. The error is measured
   relative to each tensor's largest gradient; a wrong term in any backward formula shows up
   at 1e-2 or more.

   TRAINING_TOLERANCE 1e-4 (the losses before each AdamW step, the gradient norms, the final
   weights after 10 steps): Adam divides each gradient by the root of its running second
   moment, so a gradient entry's relative rounding error becomes an absolute error in its
   update (lr times it), and 10 steps compound it through the weights the next forward sees.
   An error in the schedule, the bias correction, the decoupled decay or the clipping changes
   these by 1e-3 or more. */
#define FORWARD_TOLERANCE 1e-5
#define GRADIENT_TOLERANCE 1e-4
#define TRAINING_TOLERANCE 1e-4

/* ---------------------------------------------------------------------------------------
   The reference file, read in full. */
typedef struct {
    grpo_config config;
    int B, T, n_steps;
    int *lengths, *tokens, *targets;  /* (B), (B*T), (B*T) */
    float temperature, loss_scale;
    float *loss_weights;              /* (B*T) */
    float *params[GRPO_NUM_TENSORS];  /* initial weights, one array per tensor */
    float *logits, *logprobs, *entropy, loss;
    float *grads[GRPO_NUM_TENSORS];
    float *losses, *grad_norms;       /* (n_steps) */
    float *final_params[GRPO_NUM_TENSORS];
} torch_reference;

static const char *reference_path = "tests/data/torch_reference.bin";
static char load_error[1024] = "";
static unsigned char *file_data;
static size_t file_size, file_offset;
static torch_reference ref;
static grpo_model model;
static int model_ready;

/* Hands out the next bytes of the file, or NULL (with load_error set) if it ends first. */
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

/* Copies count int32 / float32 values into a fresh array (the file is little-endian, and so is
   the host: load_reference checks). */
static int *take_ints(const char *field, size_t count) {
    const unsigned char *at = take(field, count, 4);
    if (!at) return NULL;
    int *out = (int *)malloc((count ? count : 1) * sizeof(int));
    if (!out) { snprintf(load_error, sizeof load_error, "out of memory reading '%s'", field); return NULL; }
    memcpy(out, at, count * 4);
    return out;
}
static float *take_floats(const char *field, size_t count) {
    const unsigned char *at = take(field, count, 4);
    if (!at) return NULL;
    float *out = (float *)malloc((count ? count : 1) * sizeof(float));
    if (!out) { snprintf(load_error, sizeof load_error, "out of memory reading '%s'", field); return NULL; }
    memcpy(out, at, count * 4);
    return out;
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

/* Reads the whole file and creates the model with its config and weights. 0 on success;
   otherwise load_error says what is wrong. */
static int load_reference(void) {
    uint16_t one = 1;
    if (*(unsigned char *)&one != 1) { snprintf(load_error, sizeof load_error, "the reference file is little-endian and this host is not"); return 1; }
    FILE *f = fopen(reference_path, "rb");
    if (!f) { snprintf(load_error, sizeof load_error, "cannot open '%s' (generate it with /usr/bin/python3 tests/torch_reference.py --out %s)", reference_path, reference_path); return 1; }
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) { fclose(f); snprintf(load_error, sizeof load_error, "cannot size '%s'", reference_path); return 1; }
    file_size = (size_t)size;
    file_data = (unsigned char *)malloc(file_size ? file_size : 1);
    if (!file_data) { fclose(f); snprintf(load_error, sizeof load_error, "out of memory for '%s' (%zu bytes)", reference_path, file_size); return 1; }
    size_t got = fread(file_data, 1, file_size, f);
    fclose(f);
    if (got != file_size) { snprintf(load_error, sizeof load_error, "read error in '%s' (%zu of %zu bytes)", reference_path, got, file_size); return 1; }

    const unsigned char *magic = take("magic", 8, 1);
    if (!magic) return 1;
    if (memcmp(magic, "GRPOTREF", 8) != 0) { snprintf(load_error, sizeof load_error, "'%s': the magic is not \"GRPOTREF\"", reference_path); return 1; }
    int version;
    if (!take_int("version", &version)) return 1;
    if (version != 1) { snprintf(load_error, sizeof load_error, "'%s': version %d, this test reads version 1", reference_path, version); return 1; }
    grpo_config *c = &ref.config;
    memset(c, 0, sizeof *c);
    if (!take_int("vocab_size", &c->vocab_size) || !take_int("context_length", &c->context_length) ||
        !take_int("d_model", &c->d_model) || !take_int("n_layers", &c->n_layers) || !take_int("n_heads", &c->n_heads) ||
        !take_int("n_kv_heads", &c->n_kv_heads) || !take_int("d_ff", &c->d_ff) || !take_float("rope_theta", &c->rope_theta) ||
        !take_float("norm_eps", &c->norm_eps) || !take_int("qkv_bias", &c->qkv_bias) || !take_int("untied_head", &c->untied_head))
        return 1;
    if (c->vocab_size <= 0 || c->context_length <= 0 || c->d_model <= 0 || c->n_layers <= 0 || c->n_heads <= 0 ||
        c->n_kv_heads <= 0 || c->d_ff <= 0) {
        snprintf(load_error, sizeof load_error, "'%s': a config field is <= 0 (every field must be explicit)", reference_path);
        return 1;
    }
    if (grpo_config_validate(c) != GRPO_SUCCESS) {
        snprintf(load_error, sizeof load_error, "'%.300s': invalid config: %.500s", reference_path, grpo_last_error());
        return 1;
    }
    if (!take_int("B", &ref.B) || !take_int("T", &ref.T)) return 1;
    if (ref.B <= 0 || ref.T <= 0 || ref.T > c->context_length || ref.B > 4096) {
        snprintf(load_error, sizeof load_error, "'%s': B = %d, T = %d out of range (context_length %d)", reference_path, ref.B, ref.T, c->context_length);
        return 1;
    }
    size_t N = (size_t)ref.B * (size_t)ref.T, V = (size_t)c->vocab_size;
    if (!(ref.lengths = take_ints("lengths", (size_t)ref.B)) || !(ref.tokens = take_ints("tokens", N)) ||
        !(ref.targets = take_ints("targets", N)) || !take_float("temperature", &ref.temperature) ||
        !(ref.loss_weights = take_floats("loss weights", N)) || !take_float("loss_scale", &ref.loss_scale) ||
        !take_int("n_steps", &ref.n_steps))
        return 1;
    if (ref.n_steps <= 0 || ref.n_steps > 1000) {
        snprintf(load_error, sizeof load_error, "'%s': n_steps = %d out of range", reference_path, ref.n_steps);
        return 1;
    }
    /* the model gives the tensor table, and so the size of every tensor */
    if (grpo_model_create(&model, c, 1) != GRPO_SUCCESS) {
        snprintf(load_error, sizeof load_error, "grpo_model_create: %s", grpo_last_error());
        return 1;
    }
    model_ready = 1;
    char field[64];
    for (int i = 0; i < GRPO_NUM_TENSORS; i++) {
        snprintf(field, sizeof field, "initial %s", model.tensors[i].name);
        if (!(ref.params[i] = take_floats(field, model.tensors[i].count))) return 1;
    }
    if (!(ref.logits = take_floats("logits", N * V)) || !(ref.logprobs = take_floats("logprobs", N)) ||
        !(ref.entropy = take_floats("entropy", N)) || !take_float("loss", &ref.loss))
        return 1;
    for (int i = 0; i < GRPO_NUM_TENSORS; i++) {
        snprintf(field, sizeof field, "grad %s", model.tensors[i].name);
        if (!(ref.grads[i] = take_floats(field, model.tensors[i].count))) return 1;
    }
    if (!(ref.losses = take_floats("losses", (size_t)ref.n_steps)) || !(ref.grad_norms = take_floats("grad norms", (size_t)ref.n_steps)))
        return 1;
    for (int i = 0; i < GRPO_NUM_TENSORS; i++) {
        snprintf(field, sizeof field, "final %s", model.tensors[i].name);
        if (!(ref.final_params[i] = take_floats(field, model.tensors[i].count))) return 1;
    }
    if (file_offset != file_size) {
        snprintf(load_error, sizeof load_error, "'%s': %zu trailing bytes after the last field (wrong config or version?)", reference_path, file_size - file_offset);
        return 1;
    }
    for (int b = 0; b < ref.B; b++)
        if (ref.lengths[b] < 0 || ref.lengths[b] > ref.T) {
            snprintf(load_error, sizeof load_error, "'%s': lengths[%d] = %d outside [0, T = %d]", reference_path, b, ref.lengths[b], ref.T);
            return 1;
        }
    /* the reference's weights, tensor by tensor, through the tensor table */
    for (int i = 0; i < GRPO_NUM_TENSORS; i++)
        memcpy(model.params_memory + model.tensors[i].offset, ref.params[i], model.tensors[i].count * sizeof(float));
    return 0;
}

static void free_reference(void) {
    free(ref.lengths); free(ref.tokens); free(ref.targets); free(ref.loss_weights);
    free(ref.logits); free(ref.logprobs); free(ref.entropy); free(ref.losses); free(ref.grad_norms);
    for (int i = 0; i < GRPO_NUM_TENSORS; i++) { free(ref.params[i]); free(ref.grads[i]); free(ref.final_params[i]); }
    free(file_data);
    memset(&ref, 0, sizeof ref);
    file_data = NULL;
    if (model_ready) grpo_model_destroy(&model);
    model_ready = 0;
}

/* ---------------------------------------------------------------------------------------
   What grpo.h computes, once, for the tests to compare. */
static grpo_result forward_result, backward_result, training_result = GRPO_SUCCESS;
static char training_error[1024] = "";
static float *logprobs, *entropy, *dlogprobs;
static float *valid_logits, *valid_ref_logits; /* the valid rows only, packed, of grpo.h and of torch */
static size_t valid_rows;
static double loss;
static float *losses, *grad_norms;
static float *grads_copy; /* model.grads_memory after the first backward */

static int is_valid(size_t n) { return (int)(n % (size_t)ref.T) < ref.lengths[n / (size_t)ref.T]; }

/* loss = loss_scale * sum_valid w * (-logprob) / count; writes d loss / d logprobs. */
static double weighted_loss(const float *lp, float *dlp) {
    size_t N = (size_t)ref.B * ref.T;
    int count = 0;
    for (size_t n = 0; n < N; n++) count += is_valid(n);
    double sum = 0.0;
    for (size_t n = 0; n < N; n++) {
        if (!is_valid(n) || count == 0) { dlp[n] = 0.0f; continue; }
        sum -= (double)ref.loss_weights[n] * lp[n];
        dlp[n] = -ref.loss_scale * ref.loss_weights[n] / (float)count;
    }
    return count ? ref.loss_scale * sum / count : 0.0;
}

static void compute_grpo(void) {
    size_t N = (size_t)ref.B * ref.T, V = (size_t)ref.config.vocab_size;
    logprobs = (float *)calloc(N, sizeof(float));
    entropy = (float *)calloc(N, sizeof(float));
    dlogprobs = (float *)calloc(N, sizeof(float));
    valid_logits = (float *)calloc(N * V, sizeof(float));
    valid_ref_logits = (float *)calloc(N * V, sizeof(float));
    losses = (float *)calloc((size_t)ref.n_steps, sizeof(float));
    grad_norms = (float *)calloc((size_t)ref.n_steps, sizeof(float));
    grads_copy = (float *)calloc(model.num_parameters, sizeof(float));
    if (!logprobs || !entropy || !dlogprobs || !valid_logits || !valid_ref_logits || !losses || !grad_norms || !grads_copy) {
        forward_result = backward_result = training_result = GRPO_ERROR_OUT_OF_MEMORY;
        return;
    }
    forward_result = grpo_model_forward(&model, ref.tokens, ref.targets, ref.lengths, ref.B, ref.T, ref.temperature, logprobs, entropy);
    if (forward_result) { printf("  grpo_model_forward: %s\n", grpo_last_error()); backward_result = training_result = forward_result; return; }
    /* only valid rows are compared (padding rows are garbage by design) */
    valid_rows = 0;
    for (size_t n = 0; n < N; n++)
        if (is_valid(n)) {
            memcpy(valid_logits + valid_rows * V, model.acts.logits + (size_t)model.acts.row_of[n] * V, V * sizeof(float));
            memcpy(valid_ref_logits + valid_rows * V, ref.logits + n * V, V * sizeof(float));
            valid_rows++;
        }
    loss = weighted_loss(logprobs, dlogprobs);
    grpo_model_zero_grad(&model);
    backward_result = grpo_model_backward(&model, dlogprobs);
    if (backward_result) { printf("  grpo_model_backward: %s\n", grpo_last_error()); training_result = backward_result; return; }
    memcpy(grads_copy, model.grads_memory, model.num_parameters * sizeof(float));

    /* training from the initial weights again, as the reference does */
    for (int i = 0; i < GRPO_NUM_TENSORS; i++)
        memcpy(model.params_memory + model.tensors[i].offset, ref.params[i], model.tensors[i].count * sizeof(float));
    grpo_adamw optimizer;
    grpo_adamw_config config;
    memset(&config, 0, sizeof config);
    config.learning_rate = 1e-2f;
    config.weight_decay = 0.1f;
    config.warmup_steps = 3;
    config.schedule = GRPO_SCHEDULE_COSINE;
    config.total_steps = 10;
    config.max_grad_norm = 1.0f;
    training_result = grpo_adamw_create(&optimizer, &model, &config);
    if (training_result) { snprintf(training_error, sizeof training_error, "grpo_adamw_create: %s", grpo_last_error()); return; }
    float *lp = (float *)calloc(N, sizeof(float)), *dlp = (float *)calloc(N, sizeof(float));
    if (!lp || !dlp) training_result = GRPO_ERROR_OUT_OF_MEMORY;
    for (int s = 0; s < ref.n_steps && !training_result; s++) {
        training_result = grpo_model_forward(&model, ref.tokens, ref.targets, ref.lengths, ref.B, ref.T, ref.temperature, lp, NULL);
        if (training_result) { snprintf(training_error, sizeof training_error, "step %d forward: %s", s, grpo_last_error()); break; }
        losses[s] = (float)weighted_loss(lp, dlp);
        grpo_model_zero_grad(&model);
        training_result = grpo_model_backward(&model, dlp);
        if (training_result) { snprintf(training_error, sizeof training_error, "step %d backward: %s", s, grpo_last_error()); break; }
        training_result = grpo_adamw_step(&optimizer, &model, &grad_norms[s], NULL);
        if (training_result) { snprintf(training_error, sizeof training_error, "step %d adamw: %s", s, grpo_last_error()); break; }
    }
    free(lp);
    free(dlp);
    grpo_adamw_destroy(&optimizer);
}

static void free_grpo(void) {
    free(logprobs); free(entropy); free(dlogprobs); free(valid_logits); free(valid_ref_logits);
    free(losses); free(grad_norms); free(grads_copy);
}

/* ---------------------------------------------------------------------------------------
   The tests. */
static void report(const char *what, double err, double tolerance) {
    printf("    %-22s rel err %.3e (tolerance %.0e)\n", what, err, tolerance);
}

static void test_reference_file(void) {
    CHECK(load_error[0] == '\0', "%s", load_error);
}

static void test_forward_logits(void) {
    CHECK(forward_result == GRPO_SUCCESS, "grpo_model_forward failed: %s", grpo_result_string(forward_result));
    if (forward_result) return;
    size_t n = valid_rows * (size_t)ref.config.vocab_size;
    double err = test_relative_error(valid_logits, valid_ref_logits, n); /* tolerance: FORWARD_TOLERANCE, see the top */
    report("logits (valid rows)", err, FORWARD_TOLERANCE);
    CHECK(err <= FORWARD_TOLERANCE, "logits: rel err %.3e > %.0e", err, FORWARD_TOLERANCE);
}

static void test_forward_logprobs(void) {
    CHECK(forward_result == GRPO_SUCCESS, "grpo_model_forward failed: %s", grpo_result_string(forward_result));
    if (forward_result) return;
    size_t n = (size_t)ref.B * ref.T;
    double err = test_relative_error(logprobs, ref.logprobs, n); /* FORWARD_TOLERANCE */
    report("logprobs", err, FORWARD_TOLERANCE);
    CHECK(err <= FORWARD_TOLERANCE, "logprobs: rel err %.3e > %.0e", err, FORWARD_TOLERANCE);
    for (size_t i = 0; i < n; i++)
        if (!is_valid(i)) CHECK(logprobs[i] == 0.0f, "logprobs[%zu] = %g at a padding position, expected 0", i, (double)logprobs[i]);
}

static void test_forward_entropy(void) {
    CHECK(forward_result == GRPO_SUCCESS, "grpo_model_forward failed: %s", grpo_result_string(forward_result));
    if (forward_result) return;
    size_t n = (size_t)ref.B * ref.T;
    double err = test_relative_error(entropy, ref.entropy, n); /* FORWARD_TOLERANCE */
    report("entropy", err, FORWARD_TOLERANCE);
    CHECK(err <= FORWARD_TOLERANCE, "entropy: rel err %.3e > %.0e", err, FORWARD_TOLERANCE);
    for (size_t i = 0; i < n; i++)
        if (!is_valid(i)) CHECK(entropy[i] == 0.0f, "entropy[%zu] = %g at a padding position, expected 0", i, (double)entropy[i]);
}

static void test_forward_loss(void) {
    CHECK(forward_result == GRPO_SUCCESS, "grpo_model_forward failed: %s", grpo_result_string(forward_result));
    if (forward_result) return;
    float value = (float)loss;
    double err = test_relative_error(&value, &ref.loss, 1); /* FORWARD_TOLERANCE */
    report("loss", err, FORWARD_TOLERANCE);
    CHECK(err <= FORWARD_TOLERANCE, "loss %.8g, torch %.8g: rel err %.3e > %.0e", (double)value, (double)ref.loss, err, FORWARD_TOLERANCE);
}

/* One test per parameter tensor; current_tensor says which. */
static int current_tensor;
static double max_gradient_error, max_final_error;

static void test_gradient(void) {
    CHECK(backward_result == GRPO_SUCCESS, "grpo_model_backward failed: %s", grpo_result_string(backward_result));
    if (backward_result) return;
    const grpo_tensor_info *t = &model.tensors[current_tensor];
    double err = test_relative_error(grads_copy + t->offset, ref.grads[current_tensor], t->count); /* GRADIENT_TOLERANCE */
    if (err > max_gradient_error || err != err) max_gradient_error = err;
    char what[64];
    snprintf(what, sizeof what, "d %s", t->name);
    report(what, err, GRADIENT_TOLERANCE);
    CHECK(err <= GRADIENT_TOLERANCE, "gradient of %s: rel err %.3e > %.0e", t->name, err, GRADIENT_TOLERANCE);
}

static void test_adamw_losses(void) {
    CHECK(training_result == GRPO_SUCCESS, "training failed: %s", training_error);
    if (training_result) return;
    double err = test_relative_error(losses, ref.losses, (size_t)ref.n_steps); /* TRAINING_TOLERANCE */
    report("losses before steps", err, TRAINING_TOLERANCE);
    printf("    losses (grpo.h): ");
    for (int s = 0; s < ref.n_steps; s++) printf("%.5f ", (double)losses[s]);
    printf("\n");
    CHECK(err <= TRAINING_TOLERANCE, "losses: rel err %.3e > %.0e", err, TRAINING_TOLERANCE);
    /* the elementwise error matters too: the late losses are much smaller than the first */
    for (int s = 0; s < ref.n_steps; s++) {
        double e = fabs((double)losses[s] - ref.losses[s]) / fabs((double)ref.losses[s]);
        CHECK(e <= TRAINING_TOLERANCE, "loss before step %d: %.8g, torch %.8g (rel err %.3e)", s, (double)losses[s], (double)ref.losses[s], e);
    }
}

static void test_adamw_grad_norms(void) {
    CHECK(training_result == GRPO_SUCCESS, "training failed: %s", training_error);
    if (training_result) return;
    double err = test_relative_error(grad_norms, ref.grad_norms, (size_t)ref.n_steps); /* TRAINING_TOLERANCE */
    report("gradient norms", err, TRAINING_TOLERANCE);
    printf("    grad norms (grpo.h): ");
    for (int s = 0; s < ref.n_steps; s++) printf("%.5f ", (double)grad_norms[s]);
    printf("\n");
    CHECK(err <= TRAINING_TOLERANCE, "gradient norms: rel err %.3e > %.0e", err, TRAINING_TOLERANCE);
    int clipped = 0;
    for (int s = 0; s < ref.n_steps; s++) {
        double e = fabs((double)grad_norms[s] - ref.grad_norms[s]) / fabs((double)ref.grad_norms[s]);
        CHECK(e <= TRAINING_TOLERANCE, "grad norm of step %d: %.8g, torch %.8g (rel err %.3e)", s, (double)grad_norms[s], (double)ref.grad_norms[s], e);
        clipped += ref.grad_norms[s] > 1.0f;
    }
    /* the data must exercise both sides of the clipping */
    CHECK(clipped > 0 && clipped < ref.n_steps, "clipping is active in %d of %d steps; the reference should straddle max_grad_norm", clipped, ref.n_steps);
}

static void test_adamw_final_weights(void) {
    CHECK(training_result == GRPO_SUCCESS, "training failed: %s", training_error);
    if (training_result) return;
    const grpo_tensor_info *t = &model.tensors[current_tensor];
    double err = test_relative_error(model.params_memory + t->offset, ref.final_params[current_tensor], t->count); /* TRAINING_TOLERANCE */
    if (err > max_final_error || err != err) max_final_error = err;
    char what[64];
    snprintf(what, sizeof what, "final %s", t->name);
    report(what, err, TRAINING_TOLERANCE);
    CHECK(err <= TRAINING_TOLERANCE, "final %s: rel err %.3e > %.0e", t->name, err, TRAINING_TOLERANCE);
    /* and the weights did move: a no-op optimizer must not pass */
    double moved = test_relative_error(ref.final_params[current_tensor], ref.params[current_tensor], t->count);
    CHECK(moved > 100 * TRAINING_TOLERANCE, "final %s: the reference moved only %.3e from the initial weights", t->name, moved);
}

int main(int argc, char **argv) {
    if (argc > 1) reference_path = argv[1];
    printf("reference: %s\n", reference_path);
    if (load_reference() == 0) compute_grpo();
    TEST(test_reference_file);
    if (load_error[0] == '\0') {
        TEST(test_forward_logits);
        TEST(test_forward_logprobs);
        TEST(test_forward_entropy);
        TEST(test_forward_loss);
        char name[64];
        for (current_tensor = 0; current_tensor < GRPO_NUM_TENSORS; current_tensor++) {
            if (model.tensors[current_tensor].count == 0) continue;
            snprintf(name, sizeof name, "test_gradient_%s", model.tensors[current_tensor].name);
            test_run(name, test_gradient);
        }
        printf("    max gradient rel err over tensors: %.3e\n", max_gradient_error);
        TEST(test_adamw_losses);
        TEST(test_adamw_grad_norms);
        for (current_tensor = 0; current_tensor < GRPO_NUM_TENSORS; current_tensor++) {
            if (model.tensors[current_tensor].count == 0) continue;
            snprintf(name, sizeof name, "test_adamw_final_%s", model.tensors[current_tensor].name);
            test_run(name, test_adamw_final_weights);
        }
        printf("    max final-weight rel err over tensors: %.3e\n", max_final_error);
    }
    free_grpo();
    free_reference();
    return test_finish("test_torch");
}
