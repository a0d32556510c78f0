/* Tests of the model: configuration, tokenizer, matmul paths, each layer's backward and the
   whole model's against finite differences, padding, determinism, the reference model, AdamW.
   The PyTorch cross-check is tests/test_torch.c; checkpoints are tests/test_checkpoint.c. */
#define GRPO_IMPLEMENTATION
#include "grpo.h"
#include "tests/test.h"

/* ---------------------------------------------------------------------------------------
   Helpers */
static void fill_normal(float *x, size_t n, float scale, grpo_rng *rng) {
    for (size_t i = 0; i < n; i++) x[i] = scale * grpo_rng_normal(rng);
}

static grpo_config tiny_config(int qkv_bias, int untied_head) {
    grpo_config c;
    memset(&c, 0, sizeof c);
    c.vocab_size = 23; c.context_length = 8; c.d_model = 16; c.n_layers = 2;
    c.n_heads = 4; c.n_kv_heads = 2; c.d_ff = 24; c.rope_theta = 100.0f;
    c.qkv_bias = qkv_bias; c.untied_head = untied_head;
    return c;
}

/* ---------------------------------------------------------------------------------------
   Finite differences.

   A layer is checked through the scalar loss L = sum_i r_i * y_i with fixed random r, so its
   backward, run with dout = r, must return dL/dx. L is accumulated in double from the float
   outputs; central differences with step h have truncation error O(h^2 * L''') and rounding
   error about (float epsilon * sum|r_i y_i|) / h. With h = 1e-2 on O(1) inputs both stay below
   ~1e-4 absolute for these sizes, so a gradient is accepted when
       |numeric - analytic| <= 1e-3 + 1e-2 * |analytic|,
   which still catches any wrong sign, missing term or transposed index (errors of O(1)). */
typedef double (*loss_fn)(void *context);

static int check_gradient(const char *what, float *x, const float *analytic, size_t n, loss_fn loss, void *context,
                          float step, double atol, double rtol, size_t max_elements) {
    int bad = 0;
    size_t stride = n > max_elements ? n / max_elements : 1;
    for (size_t i = 0; i < n; i += stride) {
        float saved = x[i];
        x[i] = saved + step;
        double plus = loss(context);
        x[i] = saved - step;
        double minus = loss(context);
        x[i] = saved;
        double numeric = (plus - minus) / (2.0 * (double)step);
        double error = fabs(numeric - (double)analytic[i]);
        if (!(error <= atol + rtol * fabs((double)analytic[i]))) {
            bad++;
            CHECK(0, "%s[%zu]: analytic %.6g, numeric %.6g", what, i, (double)analytic[i], numeric);
        }
    }
    return bad;
}

static double weighted_sum(const float *y, const float *r, size_t n) {
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) sum += (double)y[i] * r[i];
    return sum;
}

/* RMSNorm ---------------------------------------------------------------------------------- */
enum { NORM_N = 5, NORM_C = 12 };
typedef struct { float x[NORM_N * NORM_C], w[NORM_C], y[NORM_N * NORM_C], rstd[NORM_N], r[NORM_N * NORM_C]; } norm_case;
static double norm_loss(void *context) {
    norm_case *k = (norm_case *)context;
    grpo__rmsnorm_forward(k->y, k->rstd, k->x, k->w, NORM_N, NORM_C, 1e-5f);
    return weighted_sum(k->y, k->r, NORM_N * NORM_C);
}
static void test_rmsnorm_backward(void) {
    norm_case k;
    grpo_rng rng = grpo_rng_seed(1);
    fill_normal(k.x, NORM_N * NORM_C, 1.0f, &rng);
    fill_normal(k.w, NORM_C, 1.0f, &rng);
    fill_normal(k.r, NORM_N * NORM_C, 1.0f, &rng);
    float dx[NORM_N * NORM_C] = {0}, dw[NORM_C] = {0};
    norm_loss(&k);
    grpo__rmsnorm_backward(dx, dw, k.r, k.x, k.w, k.rstd, NORM_N, NORM_C);
    check_gradient("rmsnorm dx", k.x, dx, NORM_N * NORM_C, norm_loss, &k, 1e-2f, 1e-3, 1e-2, 1000);
    check_gradient("rmsnorm dweight", k.w, dw, NORM_C, norm_loss, &k, 1e-2f, 1e-3, 1e-2, 1000);
}

/* Matmul with bias ------------------------------------------------------------------------- */
/* the packing buffer of grpo__gemm, the training matmuls' path in builds with the vector kernel */
#ifdef GRPO__HAS_GEMM
static float gemm_pack[GRPO__GEMM_SCRATCH];
#define GEMM_PACK gemm_pack
#else
#define GEMM_PACK NULL
#endif
enum { MM_N = 6, MM_IN = 7, MM_OUT = 5 };
typedef struct { float x[MM_N * MM_IN], w[MM_OUT * MM_IN], b[MM_OUT], y[MM_N * MM_OUT], r[MM_N * MM_OUT]; } matmul_case;
static double matmul_loss(void *context) {
    matmul_case *k = (matmul_case *)context;
    grpo__matmul_forward(k->y, k->x, k->w, k->b, MM_N, MM_IN, MM_OUT, GEMM_PACK);
    return weighted_sum(k->y, k->r, MM_N * MM_OUT);
}
static void test_matmul_backward(void) {
    matmul_case k;
    grpo_rng rng = grpo_rng_seed(2);
    fill_normal(k.x, MM_N * MM_IN, 1.0f, &rng);
    fill_normal(k.w, MM_OUT * MM_IN, 1.0f, &rng);
    fill_normal(k.b, MM_OUT, 1.0f, &rng);
    fill_normal(k.r, MM_N * MM_OUT, 1.0f, &rng);
    float dx[MM_N * MM_IN] = {0}, dw[MM_OUT * MM_IN] = {0}, db[MM_OUT] = {0};
    matmul_loss(&k);
    grpo__matmul_backward(dx, dw, db, k.r, k.x, k.w, MM_N, MM_IN, MM_OUT, GEMM_PACK);
    check_gradient("matmul dx", k.x, dx, MM_N * MM_IN, matmul_loss, &k, 1e-2f, 1e-3, 1e-2, 1000);
    check_gradient("matmul dweight", k.w, dw, MM_OUT * MM_IN, matmul_loss, &k, 1e-2f, 1e-3, 1e-2, 1000);
    check_gradient("matmul dbias", k.b, db, MM_OUT, matmul_loss, &k, 1e-2f, 1e-3, 1e-2, 1000);
}

/* RoPE ----------------------------------------------------------------------------------- */
enum { ROPE_B = 2, ROPE_T = 5, ROPE_H = 3, ROPE_D = 6 };
#define ROPE_COUNT (ROPE_B * ROPE_T * ROPE_H * ROPE_D)
typedef struct { float x[ROPE_COUNT], y[ROPE_COUNT], r[ROPE_COUNT], cos_t[ROPE_T * ROPE_D / 2], sin_t[ROPE_T * ROPE_D / 2]; } rope_case;
static double rope_loss(void *context) {
    rope_case *k = (rope_case *)context;
    memcpy(k->y, k->x, sizeof k->x);
    grpo__rope_forward(k->y, k->cos_t, k->sin_t, ROPE_B, ROPE_T, ROPE_H, ROPE_D);
    return weighted_sum(k->y, k->r, ROPE_COUNT);
}
static void test_rope_backward(void) {
    rope_case k;
    grpo_rng rng = grpo_rng_seed(3);
    grpo__rope_tables(k.cos_t, k.sin_t, ROPE_T, ROPE_D, 10.0f);
    fill_normal(k.x, ROPE_COUNT, 1.0f, &rng);
    fill_normal(k.r, ROPE_COUNT, 1.0f, &rng);
    float dx[ROPE_COUNT];
    memcpy(dx, k.r, sizeof dx);
    grpo__rope_backward(dx, k.cos_t, k.sin_t, ROPE_B, ROPE_T, ROPE_H, ROPE_D);
    check_gradient("rope dx", k.x, dx, ROPE_COUNT, rope_loss, &k, 1e-2f, 1e-3, 1e-2, 1000);
    /* position 0 is not rotated; position 1 of pair 0 is rotated by exactly 1 radian */
    CHECK(k.cos_t[0] == 1.0f && k.sin_t[0] == 0.0f, "position 0 must be the identity");
    CHECK(fabsf(k.cos_t[ROPE_D / 2] - cosf(1.0f)) < 1e-6f, "angle of position 1, pair 0 must be 1 radian");
}

/* Attention with GQA ------------------------------------------------------------------------
   Three shapes: a small one; T = 70 across the blocks of 64 query rows (the second block reads
   keys of the first; the causal mask is applied a block at a time); and a shared prefix of 6
   rows read by 3 sequences of 5 (the backward adds their prefix gradients together). */
typedef struct { int rows, n_segments, H, KVH, D; int segments[4 * 8], families[9]; size_t offsets[9];
                 float *q, *k, *v, *out, *att, *r; } attention_case;
static double attention_loss(void *context) {
    attention_case *c = (attention_case *)context;
    grpo__attention_forward(c->out, c->att, c->q, c->k, c->v, c->segments, c->offsets, c->n_segments, c->H, c->KVH, c->D);
    return weighted_sum(c->out, c->r, (size_t)c->rows * c->H * c->D);
}
/* B sequences of T rows each; with prefix > 0 they first read one shared prefix of that many rows */
static void check_attention(int B, int T, int prefix, int H, int KVH, int D, size_t max_elements) {
    attention_case c;
    memset(&c, 0, sizeof c);
    c.H = H; c.KVH = KVH; c.D = D;
    int row = 0, n = 0;
    c.offsets[0] = 0;
    if (prefix > 0) {
        int *seg = c.segments + 4 * n;
        seg[0] = 0; seg[1] = prefix; seg[2] = -1; seg[3] = 0;
        c.offsets[n + 1] = c.offsets[n] + (size_t)H * prefix * prefix;
        row = prefix; n++;
    }
    for (int b = 0; b < B; b++, n++) {
        int *seg = c.segments + 4 * n;
        seg[0] = row; seg[1] = T; seg[2] = prefix > 0 ? 0 : -1; seg[3] = prefix;
        c.offsets[n + 1] = c.offsets[n] + (size_t)H * T * (prefix + T);
        row += T;
    }
    c.rows = row; c.n_segments = n;
    int n_families = 0;
    if (prefix > 0) c.families[n_families++] = 0;
    else for (int s = 0; s < n; s++) c.families[n_families++] = s;
    c.families[n_families] = n;
    size_t nq = (size_t)row * H * D, nkv = (size_t)row * KVH * D;
    c.q = (float *)malloc(sizeof(float) * nq); c.k = (float *)malloc(sizeof(float) * nkv); c.v = (float *)malloc(sizeof(float) * nkv);
    c.out = (float *)malloc(sizeof(float) * nq); c.r = (float *)malloc(sizeof(float) * nq);
    c.att = (float *)malloc(sizeof(float) * c.offsets[n]);
    float *dq = (float *)calloc(nq, sizeof(float)), *dk = (float *)calloc(nkv, sizeof(float)), *dv = (float *)calloc(nkv, sizeof(float));
    float *scratch = (float *)malloc(sizeof(float) * n_families * KVH * grpo__attention_scratch(c.segments, n));
    grpo_rng rng = grpo_rng_seed(4);
    fill_normal(c.q, nq, 1.0f, &rng);
    fill_normal(c.k, nkv, 1.0f, &rng);
    fill_normal(c.v, nkv, 1.0f, &rng);
    fill_normal(c.r, nq, 1.0f, &rng);
    attention_loss(&c);
    grpo__attention_backward(dq, dk, dv, scratch, c.r, c.att, c.q, c.k, c.v, c.segments, c.offsets, n, c.families, n_families, H, KVH, D);
    check_gradient("attention dq", c.q, dq, nq, attention_loss, &c, 1e-2f, 1e-3, 1e-2, max_elements);
    check_gradient("attention dk", c.k, dk, nkv, attention_loss, &c, 1e-2f, 1e-3, 1e-2, max_elements);
    check_gradient("attention dv", c.v, dv, nkv, attention_loss, &c, 1e-2f, 1e-3, 1e-2, max_elements);
    /* causality: the first position attends only to itself, so its output is v of position 0 */
    for (int d = 0; d < D; d++)
        CHECK(fabsf(c.out[d] - c.v[d]) < 1e-6f, "t = 0 must copy v[0] (head 0 uses kv head 0)");
    /* the last row against a direct softmax over its prefix and all its own keys (head 0) */
    double scores[160], worst = 0.0, max = -1e300, sum = 0.0;
    int last = row - 1, first = last - T + 1, keys = prefix + T;
    for (int j = 0; j < keys; j++) {
        int key_row = j < prefix ? j : first + j - prefix;
        double s = 0.0;
        for (int d = 0; d < D; d++) s += (double)c.q[((size_t)last * H) * D + d] * c.k[((size_t)key_row * KVH) * D + d];
        scores[j] = s / sqrt((double)D);
        if (scores[j] > max) max = scores[j];
    }
    for (int j = 0; j < keys; j++) sum += exp(scores[j] - max);
    for (int d = 0; d < D; d++) {
        double o = 0.0;
        for (int j = 0; j < keys; j++) {
            int key_row = j < prefix ? j : first + j - prefix;
            o += exp(scores[j] - max) / sum * c.v[((size_t)key_row * KVH) * D + d];
        }
        double e = fabs(o - c.out[((size_t)last * H) * D + d]);
        if (e > worst) worst = e;
    }
    CHECK(worst < 1e-5, "B %d T %d prefix %d: the last row's output differs from a direct softmax by %g", B, T, prefix, worst);
    free(c.q); free(c.k); free(c.v); free(c.out); free(c.r); free(c.att); free(dq); free(dk); free(dv); free(scratch);
}
static void test_attention_backward(void) {
    check_attention(2, 5, 0, 4, 2, 4, 1000);
    check_attention(1, 70, 0, 4, 2, 8, 400);
    check_attention(3, 5, 6, 4, 2, 4, 1000);
}

/* SwiGLU --------------------------------------------------------------------------------- */
enum { SWI_COUNT = 40 };
typedef struct { float gate[SWI_COUNT], up[SWI_COUNT], hidden[SWI_COUNT], r[SWI_COUNT]; } swiglu_case;
static double swiglu_loss(void *context) {
    swiglu_case *k = (swiglu_case *)context;
    grpo__swiglu_forward(k->hidden, k->gate, k->up, SWI_COUNT);
    return weighted_sum(k->hidden, k->r, SWI_COUNT);
}
static void test_swiglu_backward(void) {
    swiglu_case k;
    grpo_rng rng = grpo_rng_seed(5);
    fill_normal(k.gate, SWI_COUNT, 3.0f, &rng);
    fill_normal(k.up, SWI_COUNT, 1.0f, &rng);
    fill_normal(k.r, SWI_COUNT, 1.0f, &rng);
    float dgate[SWI_COUNT], dup[SWI_COUNT];
    swiglu_loss(&k);
    grpo__swiglu_backward(dgate, dup, k.r, k.gate, k.up, SWI_COUNT);
    check_gradient("swiglu dgate", k.gate, dgate, SWI_COUNT, swiglu_loss, &k, 1e-2f, 1e-3, 1e-2, 1000);
    check_gradient("swiglu dup", k.up, dup, SWI_COUNT, swiglu_loss, &k, 1e-2f, 1e-3, 1e-2, 1000);
}

/* Log-prob at a temperature, with padding ----------------------------------------------------- */
enum { LP_B = 2, LP_T = 3, LP_V = 9 };
typedef struct { float logits[LP_B * LP_T * LP_V], lp[LP_B * LP_T], entropy[LP_B * LP_T], r[LP_B * LP_T]; int targets[LP_B * LP_T], lengths[LP_B]; } logprob_case;
static double logprob_loss(void *context) {
    logprob_case *k = (logprob_case *)context;
    grpo__logprob_forward(k->lp, k->entropy, k->logits, k->targets, k->lengths, LP_B * LP_T, LP_T, LP_V, 0.7f);
    return weighted_sum(k->lp, k->r, LP_B * LP_T);
}
static void test_logprob_backward(void) {
    logprob_case k;
    grpo_rng rng = grpo_rng_seed(6);
    fill_normal(k.logits, LP_B * LP_T * LP_V, 2.0f, &rng);
    fill_normal(k.r, LP_B * LP_T, 1.0f, &rng);
    for (int i = 0; i < LP_B * LP_T; i++) k.targets[i] = (i * 5) % LP_V;
    k.lengths[0] = 3; k.lengths[1] = 2;
    float dlogits[LP_B * LP_T * LP_V];
    logprob_loss(&k);
    grpo__logprob_backward(dlogits, k.r, k.logits, k.targets, k.lengths, LP_B * LP_T, LP_T, LP_V, 0.7f);
    check_gradient("logprob dlogits", k.logits, dlogits, LP_B * LP_T * LP_V, logprob_loss, &k, 1e-2f, 1e-3, 1e-2, 1000);
    /* values against a direct double computation */
    for (int n = 0; n < LP_B * LP_T; n++) {
        int padded = (n % LP_T) >= k.lengths[n / LP_T];
        double maxval = -1e30, sum = 0.0, plogp = 0.0;
        for (int j = 0; j < LP_V; j++) if (k.logits[n * LP_V + j] > maxval) maxval = k.logits[n * LP_V + j];
        for (int j = 0; j < LP_V; j++) sum += exp((k.logits[n * LP_V + j] - maxval) / 0.7);
        for (int j = 0; j < LP_V; j++) {
            double p = exp((k.logits[n * LP_V + j] - maxval) / 0.7) / sum;
            plogp += p * log(p);
        }
        double lp = (k.logits[n * LP_V + k.targets[n]] - maxval) / 0.7 - log(sum);
        CHECK(padded ? k.lp[n] == 0.0f : fabs(k.lp[n] - lp) < 1e-5, "row %d: logprob %g, expected %g", n, (double)k.lp[n], padded ? 0.0 : lp);
        CHECK(padded ? k.entropy[n] == 0.0f : fabs(k.entropy[n] + plogp) < 1e-5, "row %d: entropy %g, expected %g", n, (double)k.entropy[n], padded ? 0.0 : -plogp);
    }
}

/* Embedding -------------------------------------------------------------------------------- */
static void test_embedding_backward(void) {
    /* tokens repeat, so two rows must add into one table row */
    enum { V = 5, C = 3, N = 4 };
    float table[V * C], out[N * C], dtable[V * C] = {0}, dout[N * C];
    int tokens[N] = {1, 3, 1, 4};
    grpo_rng rng = grpo_rng_seed(7);
    fill_normal(table, V * C, 1.0f, &rng);
    fill_normal(dout, N * C, 1.0f, &rng);
    grpo__embedding_forward(out, tokens, table, N, C);
    grpo__embedding_backward(dtable, dout, tokens, N, C);
    for (int c = 0; c < C; c++) {
        CHECK(out[2 * C + c] == table[1 * C + c], "row 2 must be table row 1");
        CHECK(dtable[1 * C + c] == dout[0 * C + c] + dout[2 * C + c], "table row 1 gradient must sum rows 0 and 2");
        CHECK(dtable[0 * C + c] == 0.0f && dtable[2 * C + c] == 0.0f, "unused table rows get no gradient");
    }
}

/* ---------------------------------------------------------------------------------------
   The whole model against finite differences. */
typedef struct {
    grpo_model *model;
    const int *tokens, *targets, *lengths;
    const float *weights; /* per-token loss weights */
    int B, T;
    float temperature;
    float *logprobs;
} model_case;

static double model_loss(void *context) {
    model_case *k = (model_case *)context;
    grpo_result r = grpo_model_forward(k->model, k->tokens, k->targets, k->lengths, k->B, k->T, k->temperature, k->logprobs, NULL);
    CHECK(r == GRPO_SUCCESS, "forward failed: %s", grpo_last_error());
    return weighted_sum(k->logprobs, k->weights, (size_t)k->B * k->T);
}

/* Runs one model config through per-element and directional finite-difference checks.
   Weights are scaled to std 0.3 so that attention and the MLP are far from linear. */
static void check_model_gradients(int qkv_bias, int untied_head) {
    grpo_config config = tiny_config(qkv_bias, untied_head);
    grpo_model model;
    CHECK(grpo_model_create(&model, &config, 11) == GRPO_SUCCESS, "create: %s", grpo_last_error());
    grpo_rng rng = grpo_rng_seed(12);
    for (size_t i = 0; i < model.num_parameters; i++) model.params_memory[i] += 0.3f * grpo_rng_normal(&rng);
    enum { B = 2, T = 6 };
    int tokens[B * T], targets[B * T], lengths[B] = {6, 4};
    float weights[B * T], logprobs[B * T];
    for (int i = 0; i < B * T; i++) {
        tokens[i] = (int)(grpo_rng_next(&rng) % 23);
        targets[i] = (int)(grpo_rng_next(&rng) % 23);
        weights[i] = 0.5f + grpo_rng_uniform(&rng);
    }
    model_case k = {&model, tokens, targets, lengths, weights, B, T, 0.8f, logprobs};
    model_loss(&k);
    grpo_model_zero_grad(&model);
    CHECK(grpo_model_backward(&model, weights) == GRPO_SUCCESS, "backward: %s", grpo_last_error());
    float *grads = (float *)malloc(model.num_parameters * sizeof(float));
    memcpy(grads, model.grads_memory, model.num_parameters * sizeof(float));
    /* per element: a spread of elements of every tensor. The loss is O(10) and accumulates
       ~10 float log-probs, so h = 1e-2 keeps rounding below 1e-4 (see check_gradient). */
    for (int t = 0; t < GRPO_NUM_TENSORS; t++) {
        const grpo_tensor_info *info = &model.tensors[t];
        if (!info->count) continue;
        check_gradient(info->name, model.params_memory + info->offset, grads + info->offset, info->count,
                       model_loss, &k, 1e-2f, 2e-3, 2e-2, 24);
    }
    /* directional: along the gradient itself, dL/ds of L(theta + s g/|g|) must equal |g|.
       This covers every parameter at once; expected relative error ~1e-3 from curvature. */
    double norm = 0.0;
    for (size_t i = 0; i < model.num_parameters; i++) norm += (double)grads[i] * grads[i];
    norm = sqrt(norm);
    float *saved = (float *)malloc(model.num_parameters * sizeof(float));
    memcpy(saved, model.params_memory, model.num_parameters * sizeof(float));
    double s = 1e-3, values[2];
    for (int side = 0; side < 2; side++) {
        double sign = side == 0 ? 1.0 : -1.0;
        for (size_t i = 0; i < model.num_parameters; i++) model.params_memory[i] = saved[i] + (float)(sign * s * grads[i] / norm);
        values[side] = model_loss(&k);
    }
    memcpy(model.params_memory, saved, model.num_parameters * sizeof(float));
    double directional = (values[0] - values[1]) / (2.0 * s);
    CHECK(fabs(directional - norm) <= 5e-3 * norm, "directional derivative %.6g, gradient norm %.6g", directional, norm);
    free(saved);
    free(grads);
    grpo_model_destroy(&model);
}
static void test_model_gradients_qwen2_style(void) { check_model_gradients(1, 1); }
static void test_model_gradients_llama_tied(void) { check_model_gradients(0, 0); }

/* ---------------------------------------------------------------------------------------
   Padding and batch composition: a row's results do not depend on its padding nor on the
   other rows of the batch. */
/* The shared-prefix forward (GRPO's G completions of one prompt) against the plain forward on
   the same rows: log-probs, entropies and, after the backward, every gradient; groups of 3 with
   a short last group, one group sharing nothing, ragged lengths; and its refusals. */
static void test_shared_prefix_forward(void) {
    grpo_config config = tiny_config(1, 1);
    config.context_length = 12;
    grpo_model plain, shared;
    grpo_model_create(&plain, &config, 31);
    grpo_model_create_reference(&shared, &plain);
    shared.frozen = 0; /* a trainable copy */
    enum { B = 8, T = 12, G = 3 };
    static const int lengths[B] = {12, 9, 7, 10, 11, 5, 12, 8};
    int prefix_lengths[3] = {4, 0, 6}, tokens[B * T], targets[B * T];
    grpo_rng rng = grpo_rng_seed(32);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            int head = b / G * G, shared_here = t < prefix_lengths[b / G];
            tokens[b * T + t] = shared_here && b != head ? tokens[head * T + t] : (int)(grpo_rng_next(&rng) % 23);
            targets[b * T + t] = shared_here && b != head ? targets[head * T + t] : (int)(grpo_rng_next(&rng) % 23);
        }
    float lp1[B * T], lp2[B * T], h1[B * T], h2[B * T], d[B * T];
    CHECK(grpo_model_forward(&plain, tokens, targets, lengths, B, T, 0.8f, lp1, h1) == GRPO_SUCCESS, "plain: %s", grpo_last_error());
    CHECK(grpo_model_forward_shared(&shared, tokens, targets, lengths, B, T, G, prefix_lengths, 0.8f, lp2, h2) == GRPO_SUCCESS, "shared: %s", grpo_last_error());
    CHECK(shared.acts.rows == 12 + 9 + 7 + 10 + 11 + 5 + 12 + 8 - 2 * 4 - 1 * 6, "rows: %d (each prefix once)", shared.acts.rows);
    CHECK(test_relative_error(lp2, lp1, B * T) < 1e-5, "log-probs differ: %g", test_relative_error(lp2, lp1, B * T));
    CHECK(test_relative_error(h2, h1, B * T) < 1e-5, "entropies differ: %g", test_relative_error(h2, h1, B * T));
    for (int i = 0; i < B * T; i++) d[i] = i % T < lengths[i / T] ? (float)((i * 7) % 5) - 2.0f : 0.0f;
    grpo_model_zero_grad(&plain);
    grpo_model_zero_grad(&shared);
    CHECK(grpo_model_backward(&plain, d) == GRPO_SUCCESS && grpo_model_backward(&shared, d) == GRPO_SUCCESS, "backward");
    double worst = 0.0;
    for (int t = 0; t < GRPO_NUM_TENSORS; t++) {
        if (!plain.tensors[t].count) continue;
        double e = test_relative_error(shared.grads_memory + shared.tensors[t].offset, plain.grads_memory + plain.tensors[t].offset, plain.tensors[t].count);
        if (e > worst) worst = e;
        CHECK(e < 1e-4, "gradient of %s differs: %g", plain.tensors[t].name, e);
    }
    printf("    shared vs plain forward: log-probs %.1e, gradients %.1e (relative, worst tensor)\n", test_relative_error(lp2, lp1, B * T), worst);
    /* refusals: a row differing inside its prefix; a prefix as long as a row */
    int bad[B * T];
    memcpy(bad, tokens, sizeof bad);
    bad[1 * T + 2] = (bad[1 * T + 2] + 1) % 23;
    CHECK(grpo_model_forward_shared(&shared, bad, targets, lengths, B, T, G, prefix_lengths, 0.8f, lp2, NULL) == GRPO_ERROR_INVALID_ARGUMENT &&
          strstr(grpo_last_error(), "row 1 differs from row 0"), "a row that differs inside its prefix: %s", grpo_last_error());
    int too_long[3] = {4, 0, 8};
    CHECK(grpo_model_forward_shared(&shared, tokens, targets, lengths, B, T, G, too_long, 0.8f, lp2, NULL) == GRPO_ERROR_INVALID_ARGUMENT &&
          strstr(grpo_last_error(), "prefix_lengths[2]"), "a prefix as long as a row: %s", grpo_last_error());
    CHECK(grpo_model_forward_shared(&shared, tokens, targets, lengths, B, T, 0, prefix_lengths, 0.8f, lp2, NULL) == GRPO_ERROR_INVALID_ARGUMENT, "group_size 0");
    /* rows of length 0 and a batch with no tokens at all */
    int empty[B] = {0, 3, 0, 0, 0, 0, 0, 0}, none[B] = {0};
    CHECK(grpo_model_forward(&plain, tokens, targets, empty, B, T, 1.0f, lp1, NULL) == GRPO_SUCCESS && lp1[0] == 0.0f && lp1[T] != 0.0f, "empty rows");
    CHECK(grpo_model_forward(&plain, tokens, targets, none, B, T, 1.0f, lp1, NULL) == GRPO_SUCCESS && lp1[T] == 0.0f, "no tokens");
    grpo_model_zero_grad(&plain);
    CHECK(grpo_model_backward(&plain, d) == GRPO_SUCCESS, "backward after a forward with no tokens");
    int finite = 1;
    for (size_t i = 0; i < plain.num_parameters; i++) finite &= plain.grads_memory[i] == 0.0f;
    CHECK(finite, "no tokens: the gradients stay zero");
    grpo_model_destroy(&plain);
    grpo_model_destroy(&shared);
}

static void test_padding_is_masked(void) {
    grpo_config config = tiny_config(1, 1);
    grpo_model model;
    CHECK(grpo_model_create(&model, &config, 21) == GRPO_SUCCESS, "create");
    enum { B = 2, T = 7 };
    int tokens[B * T], targets[B * T], lengths[B] = {7, 3};
    for (int i = 0; i < B * T; i++) { tokens[i] = (i * 7) % 23; targets[i] = (i * 3 + 1) % 23; }
    float lp_a[B * T], lp_b[B * T], ent[B * T], ones[B * T];
    for (int i = 0; i < B * T; i++) ones[i] = 1.0f;
    grpo_model_forward(&model, tokens, targets, lengths, B, T, 1.0f, lp_a, ent);
    grpo_model_zero_grad(&model);
    grpo_model_backward(&model, ones);
    float *grads_a = (float *)malloc(model.num_parameters * sizeof(float));
    memcpy(grads_a, model.grads_memory, model.num_parameters * sizeof(float));
    for (int t = 3; t < T; t++) {
        CHECK(lp_a[T + t] == 0.0f && ent[T + t] == 0.0f, "padded position t=%d must have logprob and entropy 0", t);
        tokens[T + t] = (tokens[T + t] + 5) % 23;  /* change the padding (targets too, even invalid ones) */
        targets[T + t] = 999;
    }
    grpo_model_forward(&model, tokens, targets, lengths, B, T, 1.0f, lp_b, NULL);
    grpo_model_zero_grad(&model);
    grpo_model_backward(&model, ones);
    CHECK(test_relative_error(lp_b, lp_a, B * T) < 1e-6, "log-probs must not depend on padding");
    CHECK(test_relative_error(model.grads_memory, grads_a, model.num_parameters) < 1e-5, "gradients must not depend on padding");
    /* row 1 alone with T = 3 gives the same log-probs as inside the padded batch */
    float lp_alone[3];
    grpo_model_forward(&model, tokens + T, targets + T, NULL, 1, 3, 1.0f, lp_alone, NULL);
    CHECK(test_relative_error(lp_alone, lp_a + T, 3) < 1e-5, "a row alone must match the same row in a padded batch");
    free(grads_a);
    grpo_model_destroy(&model);
}

/* Same seed, same inputs, same build and threads: bit-identical. */
static void test_determinism(void) {
    grpo_config config = tiny_config(1, 0);
    grpo_model a, b;
    grpo_model_create(&a, &config, 5);
    grpo_model_create(&b, &config, 5);
    CHECK(memcmp(a.params_memory, b.params_memory, a.num_parameters * sizeof(float)) == 0, "same seed must give the same weights");
    grpo_model c;
    grpo_model_create(&c, &config, 6);
    CHECK(memcmp(a.params_memory, c.params_memory, a.num_parameters * sizeof(float)) != 0, "another seed must give other weights");
    grpo_model_destroy(&c);
    enum { B = 3, T = 8 };
    int tokens[B * T], targets[B * T];
    float lp1[B * T], lp2[B * T], d[B * T];
    for (int i = 0; i < B * T; i++) { tokens[i] = (i * 11) % 23; targets[i] = (i * 13 + 2) % 23; d[i] = 0.1f * (float)(i % 5) - 0.2f; }
    grpo_model_forward(&a, tokens, targets, NULL, B, T, 0.9f, lp1, NULL);
    grpo_model_backward(&a, d);
    grpo_model_forward(&b, tokens, targets, NULL, B, T, 0.9f, lp2, NULL);
    grpo_model_backward(&b, d);
    CHECK(memcmp(lp1, lp2, sizeof lp1) == 0, "log-probs must be bit-identical");
    CHECK(memcmp(a.grads_memory, b.grads_memory, a.num_parameters * sizeof(float)) == 0, "gradients must be bit-identical");
    /* backward accumulates: a second backward doubles the gradient */
    float *first = (float *)malloc(a.num_parameters * sizeof(float));
    memcpy(first, a.grads_memory, a.num_parameters * sizeof(float));
    grpo_model_backward(&a, d);
    double worst = 0.0;
    for (size_t i = 0; i < a.num_parameters; i++) {
        double e = fabs((double)a.grads_memory[i] - 2.0 * first[i]);
        if (e > worst) worst = e;
    }
    CHECK(worst < 1e-6, "a second backward must add the same gradient again (error %g)", worst);
    free(first);
    grpo_model_destroy(&a);
    grpo_model_destroy(&b);
}

/* ---------------------------------------------------------------------------------------
   Matmul paths: the portable loop and (in the BLAS build) cblas_sgemm, against double. */
static void test_sgemm_paths(void) {
    enum { M = 37, N = 29, K = 300 }; /* K spans two of the portable loop's blocks */
    grpo_rng rng = grpo_rng_seed(8);
    float *A = (float *)malloc(sizeof(float) * M * K), *Bm = (float *)malloc(sizeof(float) * K * N);
    float *C1 = (float *)malloc(sizeof(float) * M * N), *C2 = (float *)malloc(sizeof(float) * M * N);
    double *R = (double *)malloc(sizeof(double) * M * N);
    fill_normal(A, M * K, 1.0f, &rng);
    fill_normal(Bm, K * N, 1.0f, &rng);
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            /* A is (M, K) or stored transposed (K, M); B is (K, N) or (N, K) */
            int lda = ta ? M : K, ldb = tb ? K : N;
            for (int i = 0; i < M; i++)
                for (int j = 0; j < N; j++) {
                    double s = 0.0;
                    for (int k = 0; k < K; k++)
                        s += (double)(ta ? A[k * lda + i] : A[i * lda + k]) * (tb ? Bm[j * ldb + k] : Bm[k * ldb + j]);
                    R[i * N + j] = 0.5 * s + 2.0 * 0.25; /* alpha 0.5, beta 2 on C = 0.25 */
                }
            for (int i = 0; i < M * N; i++) C1[i] = C2[i] = 0.25f;
            grpo__sgemm_portable(ta, tb, M, N, K, 0.5f, A, lda, Bm, ldb, 2.0f, C1, N);
            grpo__sgemm(ta, tb, M, N, K, 0.5f, A, lda, Bm, ldb, 2.0f, C2, N);
            double e1 = 0.0, e2 = 0.0;
            for (int i = 0; i < M * N; i++) {
                if (fabs(C1[i] - R[i]) > e1) e1 = fabs(C1[i] - R[i]);
                if (fabs(C2[i] - R[i]) > e2) e2 = fabs(C2[i] - R[i]);
            }
            /* sums of 300 products of unit normals: float rounding ~ 1e-5 absolute */
            CHECK(e1 < 1e-4, "portable sgemm ta=%d tb=%d: error %g", ta, tb, e1);
            CHECK(e2 < 1e-4, "grpo__sgemm ta=%d tb=%d: error %g", ta, tb, e2);
        }
#ifdef GRPO_USE_CBLAS
    printf("  (this build calls cblas_sgemm; the portable loop is checked beside it)\n");
#else
    printf("  (this build uses the portable matmul)\n");
#endif
    free(A); free(Bm); free(C1); free(C2); free(R);
}

/* The training matmul (grpo__gemm, builds with the vector kernel) in its three layouts: out =
   inp W^T, dinp (+)= dout W and dW += dout^T inp. Every output must be bit for bit the float
   fused multiply-add chain over k in order (from 0, or from C when accumulating), computed here
   one element at a time with fmaf; the shapes cross its tile (6 rows, 64 columns with AVX-512),
   block (256 k, 256 columns), copied-A (384 rows, for dW's layout) and thread boundaries, and
   the check runs with 1, 2 and 3 threads.
   The chain's rounding is then checked against a double-precision sum. */
static void test_training_gemm(void) {
#ifdef GRPO__HAS_GEMM
    static const int shapes[][3] = {{1, 1, 1}, {5, 7, 3}, {6, 64, 256}, {7, 65, 257}, {37, 29, 300}, {130, 200, 513}, {13, 300, 40}, {300, 17, 600}, {395, 33, 270}};
    grpo_rng rng = grpo_rng_seed(31);
    int mismatches = 0;
    double worst = 0.0;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
        float *A = (float *)malloc(sizeof(float) * (size_t)M * K), *B = (float *)malloc(sizeof(float) * (size_t)K * N);
        float *C0 = (float *)malloc(sizeof(float) * (size_t)M * N), *C = (float *)malloc(sizeof(float) * (size_t)M * N);
        fill_normal(A, (size_t)M * K, 1.0f, &rng);
        fill_normal(B, (size_t)K * N, 1.0f, &rng);
        fill_normal(C0, (size_t)M * N, 1.0f, &rng);
        for (int layout = 0; layout < 3; layout++)
            for (int accumulate = 0; accumulate < 2; accumulate++)
                for (int threads = 1; threads <= 3; threads++) {
                    /* layout 0: A (M, K) rows, B stored (N, K) (W for the forward); 1: A rows, B (K, N);
                       2: A stored (K, M) (dout for dW), B (K, N) */
                    size_t a_row = layout == 2 ? 1 : (size_t)K, a_k = layout == 2 ? (size_t)M : 1;
                    size_t b_k = layout == 0 ? 1 : (size_t)N, b_col = layout == 0 ? (size_t)K : 1;
                    memcpy(C, C0, sizeof(float) * (size_t)M * N);
#ifdef _OPENMP
                    int saved = omp_get_max_threads();
                    omp_set_num_threads(threads);
#endif
                    int done = grpo__gemm(C, N, A, a_row, a_k, B, b_k, b_col, M, N, K, accumulate, gemm_pack);
#ifdef _OPENMP
                    omp_set_num_threads(saved);
#endif
                    CHECK(done, "grpo__gemm %dx%dx%d: refused its buffer", M, N, K);
                    for (int i = 0; i < M; i++)
                        for (int j = 0; j < N; j++) {
                            float chain = accumulate ? C0[(size_t)i * N + j] : 0.0f;
                            double sum = chain, size = fabs(chain);
                            for (int k = 0; k < K; k++) {
                                float a = A[(size_t)i * a_row + (size_t)k * a_k], b = B[(size_t)k * b_k + (size_t)j * b_col];
                                chain = fmaf(a, b, chain);
                                sum += (double)a * b;
                                size += fabs((double)a * b);
                            }
                            float got = C[(size_t)i * N + j];
                            if (memcmp(&got, &chain, sizeof got) != 0 && mismatches++ < 5)
                                printf("    %dx%dx%d layout %d accumulate %d threads %d: C[%d][%d] = %.9g, the chain gives %.9g\n",
                                       M, N, K, layout, accumulate, threads, i, j, got, chain);
                            double error = fabs(got - sum) / (size + 1e-30);
                            if (error > worst) worst = error;
                        }
                }
        free(A); free(B); free(C0); free(C);
    }
    CHECK(mismatches == 0, "grpo__gemm: %d outputs differ from the in-order fmaf chain", mismatches);
    /* K up to 600 terms of unit size: float rounding stays far below 1e-5 of the sum of |terms| */
    CHECK(worst < 1e-5, "grpo__gemm: error %.2e of the sum of |terms| against double", worst);
    printf("    outputs unlike the in-order fmaf chain (1-3 threads): %d; max error %.2e of the sum of |terms|\n", mismatches, worst);
#else
    printf("    skipped: no vector kernel in this build (the training matmuls are grpo__sgemm, checked above)\n");
#endif
}

/* The decode matmul (grpo__matmul_rows: AVX-512, AVX2 or, without them, grpo__sgemm) against a
   double-precision reference, for row counts around its blocks of 16 and 64 rows and odd
   widths, in each output mode; each output must also be bit-identical whatever the number of
   rows beside it or of threads (the property that makes a completion independent of its batch).
   With the vector kernel, the weights are also given packed in panels of each height the
   generator uses (grpo__pack_panels), whatever the row count, and every output must be
   bit-identical to the stored layout's. */
static double silu_double(double g) { return g / (1.0 + exp(-g)); }

static void test_matmul_rows(void) {
    static const int row_counts[] = {1, 3, 16, 17, 40, 64, 65, 130};
    static const int shapes[][2] = {{1, 1}, {5, 7}, {16, 16}, {37, 45}, {64, 100}, {300, 33}, {33, 150}}; /* IC, OC */
    grpo_rng rng = grpo_rng_seed(21);
    double worst = 0.0;
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++)
        for (size_t mi = 0; mi < sizeof row_counts / sizeof row_counts[0]; mi++) {
            int IC = shapes[si][0], OC = shapes[si][1], M = row_counts[mi], wide = IC > OC ? IC : OC;
            float *x = (float *)malloc(sizeof(float) * M * IC), *w = (float *)malloc(sizeof(float) * OC * IC);
            float *w2 = (float *)malloc(sizeof(float) * OC * IC), *wd = (float *)malloc(sizeof(float) * IC * OC);
            float *bias = (float *)malloc(sizeof(float) * OC), *y = (float *)malloc(sizeof(float) * M * wide);
            float *start = (float *)malloc(sizeof(float) * M * wide), *one = (float *)malloc(sizeof(float) * wide);
            float *scratch = (float *)malloc(sizeof(float) * grpo__matmul_rows_scratch(M, wide));
            float *hidden = (float *)malloc(sizeof(float) * grpo__matmul_rows_scratch(M, wide));
            double *h = (double *)malloc(sizeof(double) * M * OC);
            fill_normal(x, (size_t)M * IC, 1.0f, &rng);
            fill_normal(w, (size_t)OC * IC, 1.0f, &rng);
            fill_normal(w2, (size_t)OC * IC, 1.0f, &rng);
            fill_normal(wd, (size_t)IC * OC, 1.0f, &rng);
            fill_normal(bias, (size_t)OC, 1.0f, &rng);
            fill_normal(start, (size_t)M * wide, 1.0f, &rng);
            float *stored = (float *)malloc(sizeof(float) * 4 * M * wide); /* the stored layout's outputs, per mode */
            float *pw = (float *)malloc(sizeof(float) * OC * IC), *pw2 = (float *)malloc(sizeof(float) * OC * IC);
            float *pwd = (float *)malloc(sizeof(float) * IC * OC);
            int layouts = 1;
#ifdef GRPO__LANES
            layouts = 1 + GRPO__ROW_VECTORS;
#endif
            for (int layout = 0; layout < layouts; layout++) {
            int panels = 0; /* panel height; 0: the stored layout */
#ifdef GRPO__LANES
            if (layout > 0) {
                panels = grpo__rows_tile_height[0][layout - 1];
                grpo__pack_panels(pw, w, OC, IC, panels);
                grpo__pack_panels(pw2, w2, OC, IC, panels);
                grpo__pack_panels(pwd, wd, IC, OC, panels);
            }
#endif
            for (int mode = 0; mode < 4; mode++) { /* store, store + bias, add, swiglu then add */
                int out_width = mode == 3 ? IC : OC;
                const float *W = panels ? pw : w, *W2 = panels ? pw2 : w2, *WD = panels ? pwd : wd;
                memcpy(y, start, sizeof(float) * M * out_width);
                if (mode <= 1) grpo__matmul_rows(y, x, W, NULL, mode ? bias : NULL, M, IC, OC, scratch, GRPO__ROWS_STORE, panels);
                else if (mode == 2) grpo__matmul_rows(y, x, W, NULL, NULL, M, IC, OC, scratch, GRPO__ROWS_ADD, panels);
                else {
                    grpo__matmul_rows(hidden, x, W, W2, NULL, M, IC, OC, scratch, GRPO__ROWS_SWIGLU, panels);
                    grpo__matmul_rows(y, NULL, WD, NULL, NULL, M, OC, IC, hidden, GRPO__ROWS_ADD, panels);
                }
                float *same = stored + (size_t)mode * M * wide;
                if (!panels) memcpy(same, y, sizeof(float) * M * out_width);
                else CHECK(memcmp(same, y, sizeof(float) * M * out_width) == 0, "M %d, IC %d, OC %d, mode %d: panels of %d rows give other outputs than the stored layout", M, IC, OC, mode, panels);
                int bad = 0;
                for (int m = 0; m < M; m++) {
                    if (mode == 3)
                        for (int o = 0; o < OC; o++) {
                            double g = 0.0, u = 0.0;
                            for (int k = 0; k < IC; k++) { g += (double)x[m * IC + k] * w[o * IC + k]; u += (double)x[m * IC + k] * w2[o * IC + k]; }
                            h[m * OC + o] = silu_double(g) * u;
                        }
                    for (int o = 0; o < out_width; o++) {
                        /* sequential float sums: |error| <= (n + 1) u sum |terms| (u = 2^-24), twice for swiglu */
                        double ref = 0.0, size = 0.0;
                        if (mode == 3) {
                            for (int k = 0; k < OC; k++) { ref += h[m * OC + k] * wd[o * OC + k]; size += fabs(h[m * OC + k] * wd[o * OC + k]); }
                            size *= 1.0 + 1e-5 * IC;
                        } else {
                            for (int k = 0; k < IC; k++) { ref += (double)x[m * IC + k] * w[o * IC + k]; size += fabs((double)x[m * IC + k] * w[o * IC + k]); }
                        }
                        if (mode == 1) ref += bias[o], size += fabs(bias[o]);
                        if (mode >= 2) ref += start[m * out_width + o], size += fabs(start[m * out_width + o]);
                        double e = fabs(y[m * out_width + o] - ref) / (size + 1e-30);
                        if (e > worst) worst = e;
                        if (!(e <= 2.0 * (IC + OC + 2) * 6e-8) && bad++ == 0)
                            CHECK(0, "M %d, IC %d, OC %d, mode %d: out[%d][%d] = %.7g, expected %.7g", M, IC, OC, mode, m, o, y[m * out_width + o], ref);
                    }
                }
                /* the same row alone, and with one thread: bit-identical */
                int row = M / 2;
                for (int threads = 1; threads <= 2; threads++) {
#ifdef _OPENMP
                    int saved = omp_get_max_threads();
                    omp_set_num_threads(threads);
#endif
                    memcpy(one, start + (size_t)row * out_width, sizeof(float) * out_width);
                    const float *xr = x + (size_t)row * IC;
                    if (mode <= 1) grpo__matmul_rows(one, xr, W, NULL, mode ? bias : NULL, 1, IC, OC, scratch, GRPO__ROWS_STORE, panels);
                    else if (mode == 2) grpo__matmul_rows(one, xr, W, NULL, NULL, 1, IC, OC, scratch, GRPO__ROWS_ADD, panels);
                    else {
                        grpo__matmul_rows(hidden, xr, W, W2, NULL, 1, IC, OC, scratch, GRPO__ROWS_SWIGLU, panels);
                        grpo__matmul_rows(one, NULL, WD, NULL, NULL, 1, OC, IC, hidden, GRPO__ROWS_ADD, panels);
                    }
#ifdef _OPENMP
                    omp_set_num_threads(saved);
#endif
#ifdef GRPO__LANES
                    CHECK(memcmp(one, y + (size_t)row * out_width, sizeof(float) * out_width) == 0,
                          "M %d, IC %d, OC %d, mode %d: row %d alone (%d thread(s)) differs from the batch", M, IC, OC, mode, row, threads);
#endif
                }
            }
            }
            free(x); free(w); free(w2); free(wd); free(bias); free(y); free(start); free(one); free(scratch); free(hidden); free(h);
            free(stored); free(pw); free(pw2); free(pwd);
        }
#ifdef GRPO__LANES
    printf("    vector kernel, %d lanes: max error %.2e of the sum of |terms|\n", GRPO__LANES, worst);
#else
    printf("    no vector kernel in this build (grpo__sgemm path): max error %.2e of the sum of |terms|\n", worst);
#endif
}

static void test_expf_accuracy(void) {
    double worst = 0.0;
    for (int i = 0; i <= 160000; i++) {
        float x = -80.0f + (float)i * 1e-3f;
        double e = fabs((double)grpo__expf(x) / exp((double)x) - 1.0);
        if (e > worst) worst = e;
    }
    CHECK(worst < 1e-6, "grpo__expf relative error %g over [-80, 80]", worst);
    CHECK(grpo__expf(-1000.0f) >= 0.0f && grpo__expf(-1000.0f) < 1e-37f, "large negative arguments must flush towards 0");
    CHECK(isfinite(grpo__expf(1000.0f)), "large arguments must stay finite (clamped)");
}

/* ---------------------------------------------------------------------------------------
   Configuration */
static void test_config_defaults(void) {
    grpo_config zero;
    memset(&zero, 0, sizeof zero);
    grpo_config c = grpo_config_resolve(&zero);
    CHECK(c.vocab_size == 259 && c.context_length == 256 && c.d_model == 256 && c.n_layers == 4, "sizes");
    CHECK(c.n_heads == 4 && c.n_kv_heads == 4 && c.d_ff == 704, "heads and d_ff (8*256/3 = 682 -> 704)");
    CHECK(c.rope_theta == 10000.0f && c.norm_eps == 1e-5f && c.qkv_bias == 0 && c.untied_head == 0, "floats and flags");
    CHECK(grpo_config_validate(&zero) == GRPO_SUCCESS, "the default config must be valid");
}

typedef struct { const char *what; grpo_config config; const char *expected_in_message; } bad_config;

static void test_config_errors(void) {
    grpo_config ok = tiny_config(0, 0);
    bad_config cases[24];
    int n = 0;
#define BAD(field, value, message) do { cases[n].what = #field " = " #value; cases[n].config = ok; cases[n].config.field = value; cases[n].expected_in_message = message; n++; } while (0)
    BAD(d_model, 18, "not divisible by config.n_heads");
    BAD(n_kv_heads, 3, "not divisible by config.n_kv_heads");
    BAD(d_model, 12, "head size must be even");           /* 12 / 4 = 3 */
    BAD(vocab_size, -1, "config.vocab_size");
    BAD(context_length, -5, "config.context_length");
    BAD(d_model, -16, "config.d_model");
    BAD(n_layers, -2, "config.n_layers");
    BAD(n_heads, -4, "config.n_heads");
    BAD(n_kv_heads, -1, "config.n_kv_heads");
    BAD(d_ff, -24, "config.d_ff");
    BAD(vocab_size, (1 << 24) + 1, "config.vocab_size");
    BAD(rope_theta, -1.0f, "config.rope_theta");
    BAD(rope_theta, NAN, "config.rope_theta");
    BAD(norm_eps, 2.0f, "config.norm_eps");
    BAD(norm_eps, -1e-6f, "config.norm_eps");
    BAD(qkv_bias, 2, "config.qkv_bias");
    BAD(untied_head, -1, "config.untied_head");
#undef BAD
    /* sizes whose buffers overflow size_t: 2^24 layers of 2^24 x 2^24 matrices */
    cases[n].what = "overflowing parameter count"; cases[n].config = ok;
    cases[n].config.n_layers = 1 << 24; cases[n].config.d_model = 1 << 24; cases[n].config.n_heads = 1 << 23; cases[n].config.n_kv_heads = 1 << 23;
    cases[n].config.d_ff = 1 << 24; cases[n].expected_in_message = "overflows"; n++;
    for (int i = 0; i < n; i++) {
        grpo_result r = grpo_config_validate(&cases[i].config);
        CHECK(r == GRPO_ERROR_INVALID_CONFIG, "%s: expected GRPO_ERROR_INVALID_CONFIG, got %s", cases[i].what, grpo_result_string(r));
        CHECK(strstr(grpo_last_error(), cases[i].expected_in_message) != NULL, "%s: message \"%s\" should contain \"%s\"",
              cases[i].what, grpo_last_error(), cases[i].expected_in_message);
        grpo_model model;
        memset(&model, 0xAB, sizeof model);
        r = grpo_model_create(&model, &cases[i].config, 1);
        CHECK(r == GRPO_ERROR_INVALID_CONFIG && model.params_memory == NULL, "%s: create must fail and leave the model empty", cases[i].what);
    }
}

/* ---------------------------------------------------------------------------------------
   Bad calls to forward and backward */
static void test_forward_errors(void) {
    grpo_config config = tiny_config(0, 0);
    grpo_model model;
    grpo_model_create(&model, &config, 1);
    int tokens[16] = {0}, targets[16] = {0}, lengths[2] = {8, 8};
    float lp[16], d[16] = {0};
    CHECK(grpo_model_backward(&model, d) == GRPO_ERROR_INVALID_STATE && strstr(grpo_last_error(), "forward first"), "backward before forward");
    tokens[8 + 2] = 23;
    CHECK(grpo_model_forward(&model, tokens, targets, lengths, 2, 8, 1.0f, lp, NULL) == GRPO_ERROR_INVALID_ARGUMENT &&
          strstr(grpo_last_error(), "tokens[b=1, t=2] = 23"), "token out of range: %s", grpo_last_error());
    tokens[8 + 2] = -1;
    CHECK(grpo_model_forward(&model, tokens, targets, lengths, 2, 8, 1.0f, lp, NULL) == GRPO_ERROR_INVALID_ARGUMENT, "negative token");
    tokens[8 + 2] = 0;
    targets[5] = 99;
    CHECK(grpo_model_forward(&model, tokens, targets, lengths, 2, 8, 1.0f, lp, NULL) == GRPO_ERROR_INVALID_ARGUMENT &&
          strstr(grpo_last_error(), "targets[b=0, t=5] = 99"), "target out of range: %s", grpo_last_error());
    lengths[0] = 5; /* ... but a target in the padding is ignored */
    CHECK(grpo_model_forward(&model, tokens, targets, lengths, 2, 8, 1.0f, lp, NULL) == GRPO_SUCCESS, "invalid target in padding must be ignored: %s", grpo_last_error());
    lengths[0] = 9;
    CHECK(grpo_model_forward(&model, tokens, targets, lengths, 2, 8, 1.0f, lp, NULL) == GRPO_ERROR_INVALID_ARGUMENT && strstr(grpo_last_error(), "lengths[0] = 9"), "length > T");
    lengths[0] = 8;
    CHECK(grpo_model_forward(&model, tokens, targets, lengths, 1, 16, 1.0f, lp, NULL) == GRPO_ERROR_INVALID_ARGUMENT && strstr(grpo_last_error(), "context_length"), "T > context");
    CHECK(grpo_model_forward(&model, tokens, targets, lengths, 0, 8, 1.0f, lp, NULL) == GRPO_ERROR_INVALID_ARGUMENT, "B = 0");
    CHECK(grpo_model_forward(&model, tokens, targets, lengths, 2, 8, 0.0f, lp, NULL) == GRPO_ERROR_INVALID_ARGUMENT && strstr(grpo_last_error(), "temperature"), "temperature 0");
    CHECK(grpo_model_forward(&model, tokens, targets, lengths, 2, 8, NAN, lp, NULL) == GRPO_ERROR_INVALID_ARGUMENT, "temperature NaN");
    CHECK(grpo_model_forward(&model, NULL, targets, lengths, 2, 8, 1.0f, lp, NULL) == GRPO_ERROR_INVALID_ARGUMENT, "NULL tokens");
    grpo_model empty;
    memset(&empty, 0, sizeof empty);
    CHECK(grpo_model_forward(&empty, tokens, targets, lengths, 2, 8, 1.0f, lp, NULL) == GRPO_ERROR_INVALID_STATE, "model not created");
    CHECK(grpo_model_backward(NULL, d) == GRPO_ERROR_INVALID_STATE, "NULL model");
    grpo_model_destroy(&model);
}

/* ---------------------------------------------------------------------------------------
   The reference model */
static void test_reference_model(void) {
    grpo_config config = tiny_config(1, 1);
    grpo_model policy, reference;
    grpo_model_create(&policy, &config, 3);
    CHECK(grpo_model_create_reference(&reference, &policy) == GRPO_SUCCESS, "create_reference: %s", grpo_last_error());
    CHECK(reference.frozen && reference.grads_memory == NULL, "a reference model is frozen and has no gradients");
    CHECK(memcmp(policy.params_memory, reference.params_memory, policy.num_parameters * sizeof(float)) == 0, "same weights");
    policy.params_memory[0] += 1.0f;
    CHECK(reference.params_memory[0] != policy.params_memory[0], "the reference does not share memory with the policy");
    CHECK(grpo_model_copy_weights(&reference, &policy) == GRPO_SUCCESS && reference.params_memory[0] == policy.params_memory[0], "copy_weights refreshes it");
    int tokens[4] = {1, 2, 3, 4};
    float lp[4], d[4] = {1, 1, 1, 1};
    CHECK(grpo_model_forward(&reference, tokens, tokens, NULL, 1, 4, 1.0f, lp, NULL) == GRPO_SUCCESS, "a reference model runs forward");
    CHECK(grpo_model_backward(&reference, d) == GRPO_ERROR_INVALID_STATE && strstr(grpo_last_error(), "frozen"), "and refuses backward");
    /* a frozen model's forward reuses one layer's buffers: the same log-probs as the policy's */
    int rows[16], lengths[2] = {8, 5};
    float lp_policy[16], lp_reference[16], h_policy[16], h_reference[16];
    for (int i = 0; i < 16; i++) rows[i] = (i * 5 + 3) % 23;
    CHECK(grpo_model_forward(&policy, rows, rows, lengths, 2, 8, 0.9f, lp_policy, h_policy) == GRPO_SUCCESS &&
          grpo_model_forward(&reference, rows, rows, lengths, 2, 8, 0.9f, lp_reference, h_reference) == GRPO_SUCCESS, "forwards");
    CHECK(memcmp(lp_policy, lp_reference, sizeof lp_policy) == 0 && memcmp(h_policy, h_reference, sizeof h_policy) == 0,
          "the frozen forward gives the policy's log-probs and entropies");
    grpo_config other = tiny_config(0, 1);
    grpo_model different;
    grpo_model_create(&different, &other, 3);
    CHECK(grpo_model_copy_weights(&different, &policy) == GRPO_ERROR_INVALID_ARGUMENT, "copy between configs is refused");
    grpo_model_destroy(&different);
    grpo_model_destroy(&reference);
    grpo_model_destroy(&policy);
}

/* ---------------------------------------------------------------------------------------
   Tokenizer */
static void test_byte_tokenizer(void) {
    grpo_tokenizer tok = grpo_byte_tokenizer();
    const char text[] = "a\0\xff<think>";
    size_t len = sizeof text - 1;
    int ids[32], n = 0;
    CHECK(tok.encode(&tok, text, len, ids, 32, &n) == GRPO_SUCCESS && n == (int)len, "encode");
    CHECK(ids[0] == 'a' && ids[1] == 0 && ids[2] == 255, "bytes map to ids 0..255 (NUL and 0xFF included)");
    int with_special[40];
    with_special[0] = tok.bos_id;
    memcpy(with_special + 1, ids, (size_t)n * sizeof(int));
    with_special[n + 1] = tok.eos_id;
    with_special[n + 2] = tok.pad_id;
    char out[64];
    size_t bytes = 0;
    CHECK(tok.decode(&tok, with_special, n + 3, out, sizeof out, &bytes) == GRPO_SUCCESS && bytes == len && memcmp(out, text, len) == 0,
          "decode round-trips and special tokens produce no bytes");
    CHECK(tok.encode(&tok, text, len, ids, 3, &n) == GRPO_ERROR_INVALID_ARGUMENT && n == (int)len, "too small a capacity is an error that reports the size needed");
    int bad[2] = {65, 259};
    CHECK(tok.decode(&tok, bad, 2, out, sizeof out, &bytes) == GRPO_ERROR_INVALID_ARGUMENT && strstr(grpo_last_error(), "ids[1] = 259"), "id out of range");
    CHECK(tok.decode(&tok, ids, 3, out, 3, &bytes) == GRPO_ERROR_INVALID_ARGUMENT, "no room for the NUL");
    CHECK(tok.vocab_size == 259 && tok.bos_id == 256 && tok.eos_id == 257 && tok.pad_id == 258, "special ids");
}

/* ---------------------------------------------------------------------------------------
   Loss and optimizer */
static void test_sft_loss(void) {
    float lp[4] = {-1.0f, -2.0f, -3.0f, -4.0f}, mask[4] = {0, 1, 1, 0}, d[4];
    float loss = grpo_sft_loss(lp, mask, 2, 2, d);
    CHECK(fabsf(loss - 2.5f) < 1e-6f, "mean NLL over masked tokens: %g", (double)loss);
    CHECK(d[0] == 0.0f && d[1] == -0.5f && d[2] == -0.5f && d[3] == 0.0f, "dlogprobs = -mask / count");
}

static void test_learning_rate_schedule(void) {
    grpo_adamw_config c;
    memset(&c, 0, sizeof c);
    c.learning_rate = 1.0f; c.warmup_steps = 4; c.schedule = GRPO_SCHEDULE_COSINE; c.total_steps = 14; c.min_lr_ratio = 0.1f;
    CHECK(fabsf(grpo_adamw_learning_rate(&c, 0) - 0.25f) < 1e-7f, "warm-up starts at lr/warmup");
    CHECK(fabsf(grpo_adamw_learning_rate(&c, 3) - 1.0f) < 1e-7f, "warm-up ends at lr");
    CHECK(fabsf(grpo_adamw_learning_rate(&c, 4) - 1.0f) < 1e-6f, "cosine starts at lr");
    CHECK(fabsf(grpo_adamw_learning_rate(&c, 9) - 0.55f) < 1e-6f, "cosine midpoint is (lr + min)/2");
    CHECK(fabsf(grpo_adamw_learning_rate(&c, 14) - 0.1f) < 1e-6f && fabsf(grpo_adamw_learning_rate(&c, 100) - 0.1f) < 1e-6f, "cosine ends at min_lr_ratio * lr and stays");
    c.schedule = GRPO_SCHEDULE_CONSTANT;
    CHECK(grpo_adamw_learning_rate(&c, 50) == 1.0f, "constant after warm-up");
}

static void test_adamw_errors_and_decay(void) {
    grpo_config config = tiny_config(1, 1);
    grpo_model model;
    grpo_model_create(&model, &config, 4);
    grpo_adamw opt;
    grpo_adamw_config c;
    memset(&c, 0, sizeof c);
    c.schedule = GRPO_SCHEDULE_COSINE; /* no total_steps */
    CHECK(grpo_adamw_create(&opt, &model, &c) == GRPO_ERROR_INVALID_CONFIG && strstr(grpo_last_error(), "total_steps"), "cosine needs total_steps");
    memset(&c, 0, sizeof c);
    c.learning_rate = -1.0f;
    CHECK(grpo_adamw_create(&opt, &model, &c) == GRPO_ERROR_INVALID_CONFIG && strstr(grpo_last_error(), "learning_rate"), "negative lr");
    memset(&c, 0, sizeof c);
    c.beta1 = 1.5f;
    CHECK(grpo_adamw_create(&opt, &model, &c) == GRPO_ERROR_INVALID_CONFIG && strstr(grpo_last_error(), "beta1"), "beta1 out of range");
    memset(&c, 0, sizeof c);
    c.learning_rate = 0.1f; c.weight_decay = 0.5f;
    CHECK(grpo_adamw_create(&opt, &model, &c) == GRPO_SUCCESS, "create");
    CHECK(grpo_adamw_step(&opt, &model, NULL, NULL) == GRPO_ERROR_INVALID_STATE, "a step before any backward is refused");
    /* zero gradients: Adam's update is 0, so matrices shrink by exactly (1 - lr * wd), norms and biases do not move */
    int tokens[2] = {1, 2};
    float lp[2], zero[2] = {0, 0};
    grpo_model_forward(&model, tokens, tokens, NULL, 1, 2, 1.0f, lp, NULL);
    grpo_model_backward(&model, zero);
    float wq0 = model.params.wq[0], norm0 = model.params.attn_norm[0], bias0 = model.params.bq[0] = 0.3f;
    CHECK(grpo_adamw_step(&opt, &model, NULL, NULL) == GRPO_SUCCESS, "step");
    CHECK(fabsf(model.params.wq[0] - wq0 * (1.0f - 0.1f * 0.5f)) < 1e-7f, "matrices are decayed");
    CHECK(model.params.attn_norm[0] == norm0 && model.params.bq[0] == bias0, "norms and biases are not decayed");
    /* a NaN gradient: the step is refused, nothing changes, the tensor is named */
    float *before = (float *)malloc(model.num_parameters * sizeof(float));
    memcpy(before, model.params_memory, model.num_parameters * sizeof(float));
    uint64_t step = opt.step;
    float m0 = opt.m[5];
    model.grads.w_up[7] = NAN;
    float norm;
    CHECK(grpo_adamw_step(&opt, &model, &norm, NULL) == GRPO_ERROR_NON_FINITE && strstr(grpo_last_error(), "w_up[0][0][7]"), "NaN gradient refused: %s", grpo_last_error());
    CHECK(memcmp(before, model.params_memory, model.num_parameters * sizeof(float)) == 0 && opt.step == step && opt.m[5] == m0, "weights and optimizer unchanged");
    free(before);
    grpo_adamw_destroy(&opt);
    grpo_model_destroy(&model);
}

/* A real learning signal: SFT on one fixed sequence must drive its loss down. */
static void test_sft_learns(void) {
    grpo_config config = tiny_config(0, 0);
    config.vocab_size = GRPO_BYTE_VOCAB_SIZE; config.context_length = 64; config.d_model = 32;
    grpo_model model;
    grpo_model_create(&model, &config, 9);
    grpo_adamw opt;
    grpo_adamw_config oc;
    memset(&oc, 0, sizeof oc);
    oc.learning_rate = 3e-3f;
    grpo_adamw_create(&opt, &model, &oc);
    grpo_tokenizer tok = grpo_byte_tokenizer();
    const char *text = "<think>2+3=5</think><answer>5</answer>";
    int ids[64], n;
    tok.encode(&tok, text, strlen(text), ids, 64, &n);
    float lp[64], d[64], first = 0.0f, last = 0.0f;
    for (int step = 0; step < 60; step++) {
        CHECK(grpo_model_forward(&model, ids, ids + 1, NULL, 1, n - 1, 1.0f, lp, NULL) == GRPO_SUCCESS, "forward: %s", grpo_last_error());
        last = grpo_sft_loss(lp, NULL, 1, n - 1, d);
        if (step == 0) first = last;
        grpo_model_zero_grad(&model);
        grpo_model_backward(&model, d);
        grpo_adamw_step(&opt, &model, NULL, NULL);
    }
    CHECK(first > 5.0f && last < 0.5f * first, "SFT loss went from %.3f to %.3f", (double)first, (double)last);
    grpo_adamw_destroy(&opt);
    grpo_model_destroy(&model);
}

int main(void) {
    TEST(test_config_defaults);
    TEST(test_config_errors);
    TEST(test_byte_tokenizer);
    TEST(test_sgemm_paths);
    TEST(test_training_gemm);
    TEST(test_matmul_rows);
    TEST(test_expf_accuracy);
    TEST(test_rmsnorm_backward);
    TEST(test_matmul_backward);
    TEST(test_rope_backward);
    TEST(test_attention_backward);
    TEST(test_swiglu_backward);
    TEST(test_logprob_backward);
    TEST(test_embedding_backward);
    TEST(test_model_gradients_qwen2_style);
    TEST(test_model_gradients_llama_tied);
    TEST(test_padding_is_masked);
    TEST(test_shared_prefix_forward);
    TEST(test_determinism);
    TEST(test_forward_errors);
    TEST(test_reference_model);
    TEST(test_sft_loss);
    TEST(test_learning_rate_schedule);
    TEST(test_adamw_errors_and_decay);
    TEST(test_sft_learns);
    return test_finish("test_model");
}
