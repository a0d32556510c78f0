/* Tests of the GPU build (kernels/, `make GPU=1`): every launcher against the CPU function it
   mirrors, on the same random input, and a whole training step -- the model's forward over
   shared-prefix groups, the GRPO loss, the backward and AdamW -- composed from the launchers
   against grpo.h's CPU path on the same weights.

   Tolerances (relative error in the infinity norm, tests/test.h), and why:
   - 0 (the same bits): embedding, RoPE, SwiGLU, the RMSNorm weight gradient, AdamW without
     clipping, sampled tokens and random streams: the kernels do the CPU's float operations in
     the CPU's order, unfused.
   - 2e-6: reductions over a row in another order (RMSNorm, log-softmax, entropy, the loss).
   - 1e-5: matmuls (cuBLAS in fp32, TF32 off, K up to a few hundred) and attention.
   - 1e-4: the whole model's log-probs and gradients (errors compound through the layers).

   Without a GPU (cudaGetDeviceCount finds none) it checks the error paths that need no device
   and prints "skipped: ..." for the rest: those are skipped, not passed. */
#define GRPO_IMPLEMENTATION
#include "grpo.h"
#include "tests/test.h"
#include "kernels/gpu.h"

static grpo_gpu gpu;
static grpo_rng rng;

/* ---------------------------------------------------------------------------------------
   Helpers: device buffers that are freed at the end of each test */
enum { MAX_BUFFERS = 256 };
static void *buffers[MAX_BUFFERS];
static int n_buffers;

static void *device_alloc(size_t bytes) {
    void *p = NULL;
    grpo_result r = grpo_gpu_alloc(&gpu, &p, bytes);
    CHECK(r == GRPO_SUCCESS, "grpo_gpu_alloc(%zu): %s", bytes, grpo_last_error());
    CHECK(n_buffers < MAX_BUFFERS, "too many device buffers");
    if (p && n_buffers < MAX_BUFFERS) buffers[n_buffers++] = p;
    if (p) grpo_gpu_zero(&gpu, p, bytes);
    return p;
}
static void device_free_all(void) {
    grpo_gpu_synchronize(&gpu);
    for (int i = 0; i < n_buffers; i++) grpo_gpu_free(&gpu, buffers[i]);
    n_buffers = 0;
}
static void *upload(const void *host, size_t bytes) {
    void *p = device_alloc(bytes);
    if (p && bytes) {
        grpo_result r = grpo_gpu_upload(&gpu, p, host, bytes);
        CHECK(r == GRPO_SUCCESS, "upload: %s", grpo_last_error());
    }
    return p;
}
static float *upload_floats(const float *host, size_t n) { return (float *)upload(host, n * sizeof(float)); }
static int *upload_ints(const int *host, size_t n) { return (int *)upload(host, n * sizeof(int)); }
static void download_floats(float *host, const float *device, size_t n) {
    grpo_result r = grpo_gpu_download(&gpu, host, device, n * sizeof(float));
    CHECK(r == GRPO_SUCCESS, "download: %s", grpo_last_error());
}
static float *host_floats(size_t n) { return (float *)calloc(n ? n : 1, sizeof(float)); }
static float *random_floats(size_t n, float scale) {
    float *x = host_floats(n);
    for (size_t i = 0; i < n; i++) x[i] = scale * grpo_rng_normal(&rng);
    return x;
}
#define OK(call) do { grpo_result r_ = (call); CHECK(r_ == GRPO_SUCCESS, "%s: %s", #call, grpo_last_error()); } while (0)

/* the device array against the CPU's, relative error in the infinity norm */
static void compare(const char *what, const float *device, const float *cpu, size_t n, double tolerance) {
    float *values = host_floats(n);
    download_floats(values, device, n);
    double error = test_relative_error(values, cpu, n);
    CHECK(error <= tolerance, "%s: relative error %.3g, tolerance %.3g", what, error, tolerance);
    free(values);
}

/* ---------------------------------------------------------------------------------------
   Without a device: what must hold on any machine */
static void test_errors_without_context(void) {
    grpo_gpu none;
    memset(&none, 0, sizeof none);
    float x = 0.0f;
    CHECK(grpo_gpu_swiglu_forward(&none, &x, &x, &x, 1) == GRPO_ERROR_INVALID_STATE, "a launch on an uncreated context");
    CHECK(strstr(grpo_last_error(), "grpo_gpu_create") != NULL, "message: %s", grpo_last_error());
    CHECK(grpo_gpu_rmsnorm_forward(NULL, &x, &x, &x, &x, 1, 1, 1e-5f) == GRPO_ERROR_INVALID_STATE, "NULL context");
    CHECK(grpo_gpu_device_count(NULL) == GRPO_ERROR_INVALID_ARGUMENT, "device_count(NULL)");
    CHECK(strcmp(grpo_result_string(GRPO_ERROR_GPU), "GPU error") == 0, "result string");
}

static void test_create_without_device(void) {
    grpo_gpu g;
    grpo_result r = grpo_gpu_create(&g, NULL);
    CHECK(r == GRPO_ERROR_GPU, "grpo_gpu_create without a device: %d (%s)", (int)r, grpo_last_error());
    CHECK(strstr(grpo_last_error(), "cudaGetDeviceCount") != NULL, "the message names the call: %s", grpo_last_error());
    CHECK(g.stream == NULL && g.cublas == NULL, "a failed create leaves the context empty");
    grpo_gpu_destroy(&g); /* harmless */
}

/* ---------------------------------------------------------------------------------------
   With a device: each launcher against its CPU function */
static void test_create_errors(void) {
    grpo_gpu g;
    grpo_gpu_config config = {0};
    config.device = 1000;
    CHECK(grpo_gpu_create(&g, &config) == GRPO_ERROR_INVALID_CONFIG, "device 1000");
    CHECK(strstr(grpo_last_error(), "config.device") != NULL, "message: %s", grpo_last_error());
    CHECK(grpo_gpu_rmsnorm_forward(&gpu, NULL, NULL, NULL, NULL, -1, 4, 1e-5f) == GRPO_ERROR_INVALID_ARGUMENT, "N = -1");
    void *p;
    CHECK(grpo_gpu_alloc(&gpu, &p, (size_t)1 << 60) == GRPO_ERROR_OUT_OF_MEMORY, "an exabyte: %s", grpo_last_error());
}

static void test_matmul(void) {
    int M = 37, N = 53, K = 129;
    for (int trans_a = 0; trans_a < 2; trans_a++)
        for (int trans_b = 0; trans_b < 2; trans_b++) {
            float *A = random_floats((size_t)M * K, 1.0f), *B = random_floats((size_t)K * N, 1.0f), *C = random_floats((size_t)M * N, 1.0f);
            int lda = trans_a ? M : K, ldb = trans_b ? K : N;
            float *dA = upload_floats(A, (size_t)M * K), *dB = upload_floats(B, (size_t)K * N), *dC = upload_floats(C, (size_t)M * N);
            OK(grpo_gpu_sgemm(&gpu, trans_a, trans_b, M, N, K, 0.7f, dA, lda, dB, ldb, 0.5f, dC, N));
            grpo__sgemm_portable(trans_a, trans_b, M, N, K, 0.7f, A, lda, B, ldb, 0.5f, C, N);
            char what[64];
            snprintf(what, sizeof what, "sgemm trans_a %d trans_b %d", trans_a, trans_b);
            compare(what, dC, C, (size_t)M * N, 1e-5);
            free(A); free(B); free(C);
        }
    int IC = 96, OC = 40;
    float *inp = random_floats((size_t)N * IC, 1.0f), *w = random_floats((size_t)OC * IC, 0.1f), *bias = random_floats(OC, 1.0f);
    float *out = host_floats((size_t)N * OC), *dout = random_floats((size_t)N * OC, 1.0f);
    float *dinp = random_floats((size_t)N * IC, 1.0f), *dw = random_floats((size_t)OC * IC, 1.0f), *db = random_floats(OC, 1.0f);
    float *d_inp = upload_floats(inp, (size_t)N * IC), *d_w = upload_floats(w, (size_t)OC * IC), *d_bias = upload_floats(bias, OC);
    float *d_out = device_alloc((size_t)N * OC * sizeof(float)), *d_dout = upload_floats(dout, (size_t)N * OC);
    float *d_dinp = upload_floats(dinp, (size_t)N * IC), *d_dw = upload_floats(dw, (size_t)OC * IC), *d_db = upload_floats(db, OC);
    OK(grpo_gpu_matmul_forward(&gpu, d_out, d_inp, d_w, d_bias, N, IC, OC));
    grpo__matmul_forward(out, inp, w, bias, N, IC, OC, NULL);
    compare("matmul forward with bias", d_out, out, (size_t)N * OC, 1e-5);
    OK(grpo_gpu_matmul_backward(&gpu, d_dinp, d_dw, d_db, d_dout, d_inp, d_w, N, IC, OC));
    grpo__matmul_backward(dinp, dw, db, dout, inp, w, N, IC, OC, NULL);
    compare("matmul backward dinp (+=)", d_dinp, dinp, (size_t)N * IC, 1e-5);
    compare("matmul backward dweight (+=)", d_dw, dw, (size_t)OC * IC, 1e-5);
    compare("matmul backward dbias (same order)", d_db, db, OC, 0.0);
    OK(grpo_gpu_matmul_backward_set(&gpu, d_dinp, d_dw, NULL, d_dout, d_inp, d_w, N, IC, OC));
    grpo__matmul_backward_set(dinp, dw, NULL, dout, inp, w, N, IC, OC, NULL);
    compare("matmul backward_set dinp", d_dinp, dinp, (size_t)N * IC, 1e-5);
    float *y = random_floats(1000, 1.0f), *x = random_floats(1000, 1.0f);
    float *d_y = upload_floats(y, 1000), *d_x = upload_floats(x, 1000);
    OK(grpo_gpu_add_into(&gpu, d_y, d_x, 1000));
    grpo__add_into(y, x, 1000);
    compare("add_into", d_y, y, 1000, 0.0);
    free(inp); free(w); free(bias); free(out); free(dout); free(dinp); free(dw); free(db); free(y); free(x);
    device_free_all();
}

static void test_embedding(void) {
    int N = 300, C = 72, V = 50;
    int *tokens = (int *)malloc((size_t)N * sizeof(int));
    for (int n = 0; n < N; n++) tokens[n] = (int)(grpo_rng_next(&rng) % 7) * 7 % V; /* many repeats */
    float *table = random_floats((size_t)V * C, 1.0f), *out = host_floats((size_t)N * C);
    float *dout = random_floats((size_t)N * C, 1.0f), *dtable = random_floats((size_t)V * C, 1.0f);
    int *d_tokens = upload_ints(tokens, N);
    float *d_table = upload_floats(table, (size_t)V * C), *d_out = device_alloc((size_t)N * C * sizeof(float));
    float *d_dout = upload_floats(dout, (size_t)N * C), *d_dtable = upload_floats(dtable, (size_t)V * C);
    OK(grpo_gpu_embedding_forward(&gpu, d_out, d_tokens, d_table, N, C));
    grpo__embedding_forward(out, tokens, table, N, C);
    compare("embedding forward", d_out, out, (size_t)N * C, 0.0);
    OK(grpo_gpu_embedding_backward(&gpu, d_dtable, d_dout, d_tokens, N, C));
    grpo__embedding_backward(dtable, dout, tokens, N, C);
    compare("embedding backward (repeated tokens, +=)", d_dtable, dtable, (size_t)V * C, 0.0);
    free(tokens); free(table); free(out); free(dout); free(dtable);
    device_free_all();
}

static void test_rmsnorm(void) {
    int N = 65, C = 200;
    float eps = 1e-5f;
    float *inp = random_floats((size_t)N * C, 2.0f), *w = random_floats(C, 1.0f), *out = host_floats((size_t)N * C), *rstd = host_floats(N);
    float *dout = random_floats((size_t)N * C, 1.0f), *dinp = random_floats((size_t)N * C, 1.0f), *dw = random_floats(C, 1.0f);
    float *d_inp = upload_floats(inp, (size_t)N * C), *d_w = upload_floats(w, C);
    float *d_out = device_alloc((size_t)N * C * sizeof(float)), *d_rstd = device_alloc((size_t)N * sizeof(float));
    OK(grpo_gpu_rmsnorm_forward(&gpu, d_out, d_rstd, d_inp, d_w, N, C, eps));
    grpo__rmsnorm_forward(out, rstd, inp, w, N, C, eps);
    compare("rmsnorm forward", d_out, out, (size_t)N * C, 2e-6);
    compare("rmsnorm rstd", d_rstd, rstd, N, 2e-6);
    /* the backward from the CPU's rstd, so that the weight gradient's bits can be compared */
    float *d_rstd_cpu = upload_floats(rstd, N), *d_dout = upload_floats(dout, (size_t)N * C);
    float *d_dinp = upload_floats(dinp, (size_t)N * C), *d_dw = upload_floats(dw, C);
    OK(grpo_gpu_rmsnorm_backward(&gpu, d_dinp, d_dw, d_dout, d_inp, d_w, d_rstd_cpu, N, C));
    grpo__rmsnorm_backward(dinp, dw, dout, inp, w, rstd, N, C);
    compare("rmsnorm backward dinp (+=)", d_dinp, dinp, (size_t)N * C, 2e-6);
    compare("rmsnorm backward dweight (+=, same order)", d_dw, dw, C, 0.0);
    free(inp); free(w); free(out); free(rstd); free(dout); free(dinp); free(dw);
    device_free_all();
}

static void test_rope(void) {
    int B = 3, T = 11, H = 4, D = 16, context = 32;
    float *cos_table = host_floats((size_t)context * D / 2), *sin_table = host_floats((size_t)context * D / 2);
    grpo__rope_tables(cos_table, sin_table, context, D, 10000.0f);
    float *d_cos = upload_floats(cos_table, (size_t)context * D / 2), *d_sin = upload_floats(sin_table, (size_t)context * D / 2);
    size_t count = (size_t)B * T * H * D;
    float *x = random_floats(count, 1.0f);
    float *d_x = upload_floats(x, count);
    OK(grpo_gpu_rope_forward(&gpu, d_x, d_cos, d_sin, B, T, H, D));
    grpo__rope_forward(x, cos_table, sin_table, B, T, H, D);
    compare("rope forward", d_x, x, count, 0.0);
    OK(grpo_gpu_rope_backward(&gpu, d_x, d_cos, d_sin, B, T, H, D));
    grpo__rope_backward(x, cos_table, sin_table, B, T, H, D);
    compare("rope backward", d_x, x, count, 0.0);
    int rows = 20, positions[20];
    for (int r = 0; r < rows; r++) positions[r] = (int)(grpo_rng_next(&rng) % context);
    int *d_positions = upload_ints(positions, rows);
    OK(grpo_gpu_rope_rotate(&gpu, d_x, d_cos, d_sin, rows, 1, d_positions, H, D, 1.0f));
    grpo__rope_rotate(x, cos_table, sin_table, rows, 1, positions, H, D, 1.0f);
    compare("rope at positions", d_x, x, count, 0.0);
    CHECK(grpo_gpu_rope_rotate(&gpu, d_x, d_cos, d_sin, rows, 1, d_positions, H, 15, 1.0f) == GRPO_ERROR_INVALID_ARGUMENT, "odd D");
    free(cos_table); free(sin_table); free(x);
    device_free_all();
}

static void test_swiglu(void) {
    size_t count = 5000;
    float *gate = random_floats(count, 3.0f), *up = random_floats(count, 1.0f), *hidden = host_floats(count);
    float *dhidden = random_floats(count, 1.0f), *dgate = host_floats(count), *dup = host_floats(count);
    gate[0] = 100.0f; gate[1] = -100.0f; /* the clamps of expf */
    float *d_gate = upload_floats(gate, count), *d_up = upload_floats(up, count), *d_hidden = device_alloc(count * sizeof(float));
    float *d_dhidden = upload_floats(dhidden, count), *d_dgate = device_alloc(count * sizeof(float)), *d_dup = device_alloc(count * sizeof(float));
    OK(grpo_gpu_swiglu_forward(&gpu, d_hidden, d_gate, d_up, count));
    grpo__swiglu_forward(hidden, gate, up, count);
    compare("swiglu forward", d_hidden, hidden, count, 0.0);
    OK(grpo_gpu_swiglu_backward(&gpu, d_dgate, d_dup, d_dhidden, d_gate, d_up, count));
    grpo__swiglu_backward(dgate, dup, dhidden, gate, up, count);
    compare("swiglu backward dgate", d_dgate, dgate, count, 0.0);
    compare("swiglu backward dup", d_dup, dup, count, 0.0);
    free(gate); free(up); free(hidden); free(dhidden); free(dgate); free(dup);
    device_free_all();
}

static void test_logprob(void) {
    int B = 5, T = 13, V = 1000, N = B * T;
    int lengths[5] = {13, 7, 0, 1, 12}, *targets = (int *)malloc((size_t)N * sizeof(int));
    for (int n = 0; n < N; n++) targets[n] = (int)(grpo_rng_next(&rng) % V);
    float *logits = random_floats((size_t)N * V, 4.0f), *lp = host_floats(N), *entropy = host_floats(N);
    float *dlp = random_floats(N, 1.0f), *dlogits = host_floats((size_t)N * V);
    dlp[3] = 0.0f; /* a row without gradient */
    float *d_logits = upload_floats(logits, (size_t)N * V), *d_lp = device_alloc(N * sizeof(float)), *d_entropy = device_alloc(N * sizeof(float));
    float *d_dlp = upload_floats(dlp, N), *d_dlogits = device_alloc((size_t)N * V * sizeof(float));
    int *d_targets = upload_ints(targets, N), *d_lengths = upload_ints(lengths, B);
    for (int pass = 0; pass < 2; pass++) {
        float temperature = pass ? 0.7f : 1.0f;
        OK(grpo_gpu_logprob_forward(&gpu, d_lp, d_entropy, d_logits, d_targets, d_lengths, N, T, V, temperature));
        grpo__logprob_forward(lp, entropy, logits, targets, lengths, N, T, V, temperature);
        compare("logprob forward", d_lp, lp, N, 2e-6);
        compare("entropy", d_entropy, entropy, N, 2e-6);
        OK(grpo_gpu_logprob_backward(&gpu, d_dlogits, d_dlp, d_logits, d_targets, d_lengths, N, T, V, temperature));
        grpo__logprob_backward(dlogits, dlp, logits, targets, lengths, N, T, V, temperature);
        compare("logprob backward", d_dlogits, dlogits, (size_t)N * V, 2e-6);
    }
    free(targets); free(logits); free(lp); free(entropy); free(dlp); free(dlogits);
    device_free_all();
}

/* A segment table as grpo__forward builds it: a family of a shared prefix read by two
   sequences, and a sequence of its own longer than the CPU's 64-row attention block. */
static void test_attention(void) {
    int H = 4, KVH = 2, D = 16, QD = H * D, KD = KVH * D;
    int segments[] = {0, 5, -1, 0, 5, 7, 0, 5, 12, 3, 0, 5, 15, 70, -1, 0};
    int n_segments = 4, families[] = {0, 3, 4}, n_families = 2, N = 85;
    size_t att_offsets[5] = {0};
    for (int s = 0; s < n_segments; s++) {
        size_t T = (size_t)segments[4 * s + 1], P = (size_t)segments[4 * s + 3];
        att_offsets[s + 1] = att_offsets[s] + (size_t)H * T * (P + T);
    }
    size_t att_size = att_offsets[n_segments];
    float *q = random_floats((size_t)N * QD, 1.0f), *k = random_floats((size_t)N * KD, 1.0f), *v = random_floats((size_t)N * KD, 1.0f);
    float *out = host_floats((size_t)N * QD), *att = host_floats(att_size);
    float *d_q = upload_floats(q, (size_t)N * QD), *d_k = upload_floats(k, (size_t)N * KD), *d_v = upload_floats(v, (size_t)N * KD);
    float *d_out = device_alloc((size_t)N * QD * sizeof(float)), *d_att = device_alloc(att_size * sizeof(float));
    int *d_segments = upload_ints(segments, 4 * (size_t)n_segments), *d_families = upload_ints(families, (size_t)n_families + 1);
    size_t *d_offsets = (size_t *)upload(att_offsets, sizeof att_offsets);
    OK(grpo_gpu_attention_forward(&gpu, d_out, d_att, d_q, d_k, d_v, d_segments, d_offsets, n_segments, H, KVH, D));
    grpo__attention_forward(out, att, q, k, v, segments, att_offsets, n_segments, H, KVH, D);
    compare("attention forward", d_out, out, (size_t)N * QD, 1e-5);
    compare("attention probabilities (zeros outside)", d_att, att, att_size, 1e-5);
    float *dout = random_floats((size_t)N * QD, 1.0f);
    float *dq = random_floats((size_t)N * QD, 1.0f), *dk = random_floats((size_t)N * KD, 1.0f), *dv = random_floats((size_t)N * KD, 1.0f);
    float *d_dout = upload_floats(dout, (size_t)N * QD), *d_dq = upload_floats(dq, (size_t)N * QD);
    float *d_dk = upload_floats(dk, (size_t)N * KD), *d_dv = upload_floats(dv, (size_t)N * KD);
    float *d_scratch = device_alloc(att_size * sizeof(float));
    float *scratch = host_floats((size_t)n_families * KVH * grpo__attention_scratch(segments, n_segments));
    OK(grpo_gpu_attention_backward(&gpu, d_dq, d_dk, d_dv, d_scratch, d_dout, d_att, d_q, d_k, d_v, d_segments, d_offsets, n_segments,
                                   d_families, n_families, H, KVH, D));
    grpo__attention_backward(dq, dk, dv, scratch, dout, att, q, k, v, segments, att_offsets, n_segments, families, n_families, H, KVH, D);
    compare("attention backward dq (+=)", d_dq, dq, (size_t)N * QD, 1e-5);
    compare("attention backward dk (+=, prefix read by two)", d_dk, dk, (size_t)N * KD, 1e-5);
    compare("attention backward dv (+=)", d_dv, dv, (size_t)N * KD, 1e-5);
    free(q); free(k); free(v); free(out); free(att); free(dout); free(dq); free(dk); free(dv); free(scratch);
    device_free_all();
}

/* The decode step's attention against the generator's cache layout (grpo__decode_team). */
static void test_decode_attention(void) {
    int H = 4, KVH = 2, D = 32, QD = H * D, KD = KVH * D, G = 3, n_prompts = 2, S = n_prompts * G;
    int context = 40, max_new = 20, group = H / KVH, n = 5;
    int context_blocks = (context + 15) / 16, new_blocks = (max_new + 15) / 16;
    size_t prompt_k_size = (size_t)context_blocks * D * 16, prompt_v_size = (size_t)context * D;
    size_t own_k_size = (size_t)new_blocks * D * 16, own_v_size = (size_t)max_new * D;
    float *prompt_k = random_floats(n_prompts * KVH * prompt_k_size, 1.0f), *prompt_v = random_floats(n_prompts * KVH * prompt_v_size, 1.0f);
    float *cache_k = random_floats(S * KVH * own_k_size, 1.0f), *cache_v = random_floats(S * KVH * own_v_size, 1.0f);
    int prompt_lengths[2] = {17, 3}, row_sequence[5] = {0, 2, 3, 4, 5}, row_step[5] = {0, 19, 5, 16, 1};
    float *q = random_floats((size_t)n * QD, 1.0f), *k = random_floats((size_t)n * KD, 1.0f), *v = random_floats((size_t)n * KD, 1.0f);
    float *att_out = host_floats((size_t)n * QD), *scores = host_floats((size_t)n * H * (context + 32));
    float *d_prompt_k = upload_floats(prompt_k, n_prompts * KVH * prompt_k_size), *d_prompt_v = upload_floats(prompt_v, n_prompts * KVH * prompt_v_size);
    float *d_cache_k = upload_floats(cache_k, S * KVH * own_k_size), *d_cache_v = upload_floats(cache_v, S * KVH * own_v_size);
    float *d_q = upload_floats(q, (size_t)n * QD), *d_k = upload_floats(k, (size_t)n * KD), *d_v = upload_floats(v, (size_t)n * KD);
    float *d_att_out = device_alloc((size_t)n * QD * sizeof(float)), *d_scores = device_alloc((size_t)n * H * (context + 32) * sizeof(float));
    int *d_prompt_lengths = upload_ints(prompt_lengths, 2), *d_row_sequence = upload_ints(row_sequence, n), *d_row_step = upload_ints(row_step, n);
    /* the prompts' keys and values from a prefill forward's rows (grpo__decode_prefill's loop) */
    int first_rows[2] = {4, 21}, rows = 24;
    float *k_rows = random_floats((size_t)rows * KD, 1.0f), *v_rows = random_floats((size_t)rows * KD, 1.0f);
    float *d_k_rows = upload_floats(k_rows, (size_t)rows * KD), *d_v_rows = upload_floats(v_rows, (size_t)rows * KD);
    int *d_first_rows = upload_ints(first_rows, 2);
    OK(grpo_gpu_decode_store_prompt(&gpu, d_prompt_k, d_prompt_v, d_k_rows, d_v_rows, d_first_rows, d_prompt_lengths, n_prompts, KVH, D, context));
    for (int b = 0; b < n_prompts; b++)
        for (int kvh = 0; kvh < KVH; kvh++) {
            size_t head = (size_t)b * KVH + kvh;
            for (int t = 0; t < prompt_lengths[b]; t++) {
                float *key = prompt_k + head * prompt_k_size + ((size_t)(t / 16) * D) * 16 + t % 16;
                for (int d = 0; d < D; d++) key[(size_t)d * 16] = k_rows[((size_t)first_rows[b] + t) * KD + (size_t)kvh * D + d];
                memcpy(prompt_v + head * prompt_v_size + (size_t)t * D, v_rows + ((size_t)first_rows[b] + t) * KD + (size_t)kvh * D, (size_t)D * sizeof(float));
            }
        }
    compare("decode: prompt keys into the cache", d_prompt_k, prompt_k, n_prompts * KVH * prompt_k_size, 0.0);
    compare("decode: prompt values into the cache", d_prompt_v, prompt_v, n_prompts * KVH * prompt_v_size, 0.0);
    free(k_rows); free(v_rows);
    /* the new keys and values into the cache, then attention (the CPU's loops, written out) */
    OK(grpo_gpu_decode_store_kv(&gpu, d_cache_k, d_cache_v, d_k, d_v, d_row_sequence, d_row_step, n, KVH, D, max_new));
    for (int i = 0; i < n; i++)
        for (int kvh = 0; kvh < KVH; kvh++) {
            size_t head = (size_t)row_sequence[i] * KVH + kvh;
            int step = row_step[i];
            float *key = cache_k + head * own_k_size + ((size_t)(step / 16) * D) * 16 + step % 16;
            for (int d = 0; d < D; d++) key[(size_t)d * 16] = k[(size_t)i * KD + (size_t)kvh * D + d];
            memcpy(cache_v + head * own_v_size + (size_t)step * D, v + (size_t)i * KD + (size_t)kvh * D, (size_t)D * sizeof(float));
        }
    compare("decode: keys into the cache", d_cache_k, cache_k, S * KVH * own_k_size, 0.0);
    compare("decode: values into the cache", d_cache_v, cache_v, S * KVH * own_v_size, 0.0);
    OK(grpo_gpu_decode_attention(&gpu, d_att_out, d_scores, d_q, d_prompt_k, d_prompt_v, d_prompt_lengths, d_cache_k, d_cache_v,
                                 d_row_sequence, d_row_step, n, G, H, KVH, D, context, max_new));
    float scale = 1.0f / sqrtf((float)D);
    for (int i = 0; i < n; i++)
        for (int h = 0; h < H; h++) {
            int sequence = row_sequence[i], b = sequence / G, kvh = h / group;
            size_t own = (size_t)sequence * KVH + kvh, prompt = (size_t)b * KVH + kvh;
            grpo__decode_attend(att_out + (size_t)i * QD + (size_t)h * D, scores + ((size_t)i * H + h) * (context + 32),
                                q + (size_t)i * QD + (size_t)h * D, D, scale, prompt_k + prompt * prompt_k_size,
                                prompt_v + prompt * prompt_v_size, prompt_lengths[b], cache_k + own * own_k_size,
                                cache_v + own * own_v_size, row_step[i] + 1);
        }
    compare("decode attention", d_att_out, att_out, (size_t)n * QD, 1e-5);
    free(prompt_k); free(prompt_v); free(cache_k); free(cache_v); free(q); free(k); free(v); free(att_out); free(scores);
    device_free_all();
}

static void test_loss(void) {
    int N = 6, T = 17;
    size_t count = (size_t)N * T;
    float *lp = random_floats(count, 0.5f), *old = host_floats(count), *ref = host_floats(count), *mask = host_floats(count);
    float *advantages = random_floats(N, 1.0f), *dlp = host_floats(count);
    for (size_t i = 0; i < count; i++) {
        lp[i] -= 2.0f;
        old[i] = lp[i] + 0.3f * grpo_rng_normal(&rng); /* ratios on both sides of the clip range */
        ref[i] = lp[i] + 0.2f * grpo_rng_normal(&rng);
        mask[i] = (float)(i % T < (size_t)(3 + 2 * (i / T)));
    }
    for (size_t i = 0; i < (size_t)T; i++) mask[2 * T + i] = 0.0f; /* an empty sequence */
    float *d_lp = upload_floats(lp, count), *d_old = upload_floats(old, count), *d_ref = upload_floats(ref, count);
    float *d_mask = upload_floats(mask, count), *d_adv = upload_floats(advantages, N), *d_dlp = device_alloc(count * sizeof(float));
    grpo_loss_scale scale = {12, 70.0, 2, T};
    for (int loss_type = 0; loss_type <= GRPO_LOSS_DR_GRPO; loss_type++)
        for (int kl = 0; kl <= GRPO_KL_K3_IMPORTANCE; kl++)
            for (int dual = 0; dual < 2; dual++) {
                grpo_loss_config config = {0};
                config.loss_type = (grpo_loss_type)loss_type;
                config.kl_estimator = (grpo_kl_estimator)kl;
                config.beta = 0.04f;
                config.epsilon_high = 0.28f;
                config.dual_clip = dual ? 3.0f : 0.0f;
                grpo_loss_stats cpu_stats = {0}, gpu_stats = {0};
                float cpu_loss = grpo_loss(&config, &scale, lp, old, ref, advantages, mask, N, T, dlp, &cpu_stats), gpu_loss = 0.0f;
                OK(grpo_gpu_loss(&gpu, &config, &scale, d_lp, d_old, d_ref, d_adv, d_mask, N, T, d_dlp, &gpu_stats, &gpu_loss));
                char what[96];
                snprintf(what, sizeof what, "loss_type %d kl %d dual_clip %d: dlogprobs", loss_type, kl, dual);
                compare(what, d_dlp, dlp, count, 2e-6);
                CHECK(fabsf(gpu_loss - cpu_loss) <= 2e-6f * fabsf(cpu_loss) + 1e-9f, "%s: loss %.9g vs %.9g", what, (double)gpu_loss, (double)cpu_loss);
                CHECK(gpu_stats.tokens == cpu_stats.tokens && gpu_stats.low_clipped == cpu_stats.low_clipped &&
                      gpu_stats.high_clipped == cpu_stats.high_clipped && fabs(gpu_stats.kl - cpu_stats.kl) <= 1e-9 * fabs(cpu_stats.kl) + 1e-12,
                      "%s: stats", what);
            }
    free(lp); free(old); free(ref); free(mask); free(advantages); free(dlp);
    device_free_all();
}

static void test_adamw(void) {
    grpo_config config = {0};
    config.vocab_size = 40; config.context_length = 16; config.d_model = 32; config.n_layers = 2; config.n_heads = 4;
    config.qkv_bias = 1;
    grpo_model model;
    grpo_adamw optimizer;
    OK(grpo_model_create(&model, &config, 7));
    for (int clipping = 0; clipping < 2; clipping++) {
        grpo_adamw_config adamw = {0};
        adamw.learning_rate = 1e-2f;
        adamw.weight_decay = 0.1f;
        adamw.max_grad_norm = clipping ? 0.5f : -1.0f;
        adamw.warmup_steps = 2;
        OK(grpo_adamw_create(&optimizer, &model, &adamw));
        /* a forward and a backward of zeros, so that the model has its gradient block */
        int tokens[4] = {1, 2, 3, 4};
        float lp[4], zeros[4] = {0};
        OK(grpo_model_forward(&model, tokens, tokens, NULL, 1, 4, 1.0f, lp, NULL));
        OK(grpo_model_backward(&model, zeros));
        size_t P = model.num_parameters;
        float *d_params = upload_floats(model.params_memory, P), *d_grads = device_alloc(P * sizeof(float));
        float *d_m = device_alloc(P * sizeof(float)), *d_v = device_alloc(P * sizeof(float));
        uint64_t step = 0;
        for (int s = 0; s < 3; s++) {
            for (size_t i = 0; i < P; i++) model.grads_memory[i] = 0.3f * grpo_rng_normal(&rng);
            OK(grpo_gpu_upload(&gpu, d_grads, model.grads_memory, P * sizeof(float)));
            float cpu_norm, gpu_norm, cpu_lr, gpu_lr;
            OK(grpo_adamw_step(&optimizer, &model, &cpu_norm, &cpu_lr));
            OK(grpo_gpu_adamw_step(&gpu, &optimizer.config, &step, model.tensors, P, d_params, d_grads, d_m, d_v, &gpu_norm, &gpu_lr));
            CHECK(step == optimizer.step && gpu_lr == cpu_lr, "step %llu vs %llu, lr %g vs %g", (unsigned long long)step,
                  (unsigned long long)optimizer.step, (double)gpu_lr, (double)cpu_lr);
            CHECK(fabsf(gpu_norm - cpu_norm) <= 1e-6f * cpu_norm, "norm %.9g vs %.9g", (double)gpu_norm, (double)cpu_norm);
        }
        /* without clipping the factors are the CPU's exactly, so are the bits; with it the clip
           factor comes from a norm summed in another order */
        double tolerance = clipping ? 1e-6 : 0.0;
        compare(clipping ? "adamw weights (clipped)" : "adamw weights", d_params, model.params_memory, P, tolerance);
        compare("adamw m", d_m, optimizer.m, P, tolerance);
        compare("adamw v", d_v, optimizer.v, P, tolerance);
        /* a NaN gradient: refused, the element named, nothing changed */
        float nan = NAN, *before = host_floats(P), *after = host_floats(P);
        download_floats(before, d_params, P);
        OK(grpo_gpu_upload(&gpu, d_grads + model.tensors[GRPO_TENSOR_WK].offset + 5, &nan, sizeof nan));
        grpo_result r = grpo_gpu_adamw_step(&gpu, &optimizer.config, &step, model.tensors, P, d_params, d_grads, d_m, d_v, NULL, NULL);
        CHECK(r == GRPO_ERROR_NON_FINITE && strstr(grpo_last_error(), "wk[0][0][5]") != NULL, "NaN gradient: %d %s", (int)r, grpo_last_error());
        download_floats(after, d_params, P);
        CHECK(memcmp(before, after, P * sizeof(float)) == 0 && step == 3, "a refused step changes nothing");
        free(before); free(after);
        grpo_adamw_destroy(&optimizer);
        device_free_all();
    }
    grpo_model_destroy(&model);
}

static void test_sampling(void) {
    int n = 16;
    int Vs[2] = {300, 1000};
    for (int vi = 0; vi < 2; vi++) {
        int V = Vs[vi];
        float *logits = random_floats((size_t)n * V, 3.0f), *probs = host_floats(V);
        logits[5] = logits[7] = 50.0f; /* a tied maximum: the first wins */
        grpo__candidate *candidates = (grpo__candidate *)malloc((size_t)V * sizeof *candidates);
        float *d_logits = upload_floats(logits, (size_t)n * V);
        int *d_tokens = (int *)device_alloc((size_t)n * sizeof(int));
        float *d_logprobs = device_alloc((size_t)n * sizeof(float));
        grpo_rng rngs[16], cpu_rngs[16];
        for (int i = 0; i < n; i++) rngs[i] = cpu_rngs[i] = grpo_rng_seed(1000 + (uint64_t)i);
        grpo_rng *d_rngs = (grpo_rng *)upload(rngs, sizeof rngs);
        float temperatures[5] = {1.0f, 0.7f, 1.0f, 0.6f, 1.0f}, top_ps[5] = {1.0f, 1.0f, 0.9f, 0.95f, 1.0f};
        int top_ks[5] = {0, 20, 0, 50, 0}, greedy[5] = {0, 0, 0, 0, 1};
        for (int setting = 0; setting < 5; setting++)
            for (int draw = 0; draw < 8; draw++) {
                grpo_sampling_config s = {0};
                s.temperature = temperatures[setting]; s.top_k = top_ks[setting]; s.top_p = top_ps[setting]; s.greedy = greedy[setting];
                OK(grpo_gpu_sample_tokens(&gpu, d_tokens, d_logprobs, d_logits, n, V, &s, d_rngs));
                int tokens[16], cpu_tokens[16];
                float logprobs[16], cpu_logprobs[16];
                OK(grpo_gpu_download(&gpu, tokens, d_tokens, sizeof tokens));
                download_floats(logprobs, d_logprobs, n);
                OK(grpo_gpu_download(&gpu, rngs, d_rngs, sizeof rngs));
                for (int i = 0; i < n; i++) {
                    cpu_tokens[i] = grpo__sample_token(logits + (size_t)i * V, V, &s, &cpu_rngs[i], probs, candidates, &cpu_logprobs[i]);
                    CHECK(tokens[i] == cpu_tokens[i], "V %d setting %d draw %d row %d: token %d vs %d", V, setting, draw, i, tokens[i], cpu_tokens[i]);
                    CHECK(fabsf(logprobs[i] - cpu_logprobs[i]) <= 1e-6f * (1.0f + fabsf(cpu_logprobs[i])), "logprob %.9g vs %.9g",
                          (double)logprobs[i], (double)cpu_logprobs[i]);
                    CHECK(rngs[i].state == cpu_rngs[i].state, "row %d: the random streams part", i);
                }
            }
        free(logits); free(probs); free(candidates);
        device_free_all();
    }
}

/* ---------------------------------------------------------------------------------------
   The whole model: forward, GRPO loss, backward and AdamW composed from the launchers, in the
   order of grpo__forward and grpo_model_backward, against the CPU on the same weights. The
   row and segment tables are the CPU forward's (grpo_activations): the GPU path reads them. */
typedef struct {
    float *residual, *attn_rstd, *attn_in, *q, *k, *v, *att, *att_out, *residual_mid, *mlp_rstd, *mlp_in;
    float *gate, *up, *hidden, *final_rstd, *final_out, *logits, *row_logprobs, *row_entropy;
    float *dresidual, *dnormed, *dq, *dk, *dv, *datt_out, *dgate, *dup, *dhidden, *dlogits, *datt, *row_dlogprobs;
    int *tokens, *targets, *positions, *segments, *families, *rows;
    size_t *att_offsets;
} gpu_state;

static void gpu_forward(gpu_state *s, const grpo_model *model, const grpo_parameters *p, const float *rope_cos, const float *rope_sin, float temperature) {
    const grpo_config *c = &model->config;
    const grpo_activations *a = &model->acts;
    int N = a->rows, C = c->d_model, V = c->vocab_size, F = c->d_ff, L = c->n_layers, H = c->n_heads, KVH = c->n_kv_heads;
    int D = model->head_size, QD = H * D, KD = KVH * D;
    size_t layer_att = a->att_offsets[a->n_segments];
    OK(grpo_gpu_embedding_forward(&gpu, s->residual, s->tokens, p->token_embedding, N, C));
    for (int l = 0; l < L; l++) {
        float *x = s->residual + (size_t)l * N * C, *x_mid = s->residual_mid + (size_t)l * N * C, *x_next = s->residual + (size_t)(l + 1) * N * C;
        float *attn_in = s->attn_in + (size_t)l * N * C, *mlp_in = s->mlp_in + (size_t)l * N * C;
        float *q = s->q + (size_t)l * N * QD, *k = s->k + (size_t)l * N * KD, *v = s->v + (size_t)l * N * KD;
        float *att = s->att + (size_t)l * layer_att, *att_out = s->att_out + (size_t)l * N * QD;
        float *gate = s->gate + (size_t)l * N * F, *up = s->up + (size_t)l * N * F, *hidden = s->hidden + (size_t)l * N * F;
        OK(grpo_gpu_rmsnorm_forward(&gpu, attn_in, s->attn_rstd + (size_t)l * N, x, p->attn_norm + (size_t)l * C, N, C, c->norm_eps));
        OK(grpo_gpu_matmul_forward(&gpu, q, attn_in, p->wq + (size_t)l * QD * C, p->bq ? p->bq + (size_t)l * QD : NULL, N, C, QD));
        OK(grpo_gpu_matmul_forward(&gpu, k, attn_in, p->wk + (size_t)l * KD * C, p->bk ? p->bk + (size_t)l * KD : NULL, N, C, KD));
        OK(grpo_gpu_matmul_forward(&gpu, v, attn_in, p->wv + (size_t)l * KD * C, p->bv ? p->bv + (size_t)l * KD : NULL, N, C, KD));
        OK(grpo_gpu_rope_rotate(&gpu, q, rope_cos, rope_sin, N, 1, s->positions, H, D, 1.0f));
        OK(grpo_gpu_rope_rotate(&gpu, k, rope_cos, rope_sin, N, 1, s->positions, KVH, D, 1.0f));
        OK(grpo_gpu_attention_forward(&gpu, att_out, att, q, k, v, s->segments, s->att_offsets, a->n_segments, H, KVH, D));
        OK(grpo_gpu_matmul_forward(&gpu, x_mid, att_out, p->wo + (size_t)l * C * QD, NULL, N, QD, C));
        OK(grpo_gpu_add_into(&gpu, x_mid, x, (size_t)N * C));
        OK(grpo_gpu_rmsnorm_forward(&gpu, mlp_in, s->mlp_rstd + (size_t)l * N, x_mid, p->mlp_norm + (size_t)l * C, N, C, c->norm_eps));
        OK(grpo_gpu_matmul_forward(&gpu, gate, mlp_in, p->w_gate + (size_t)l * F * C, NULL, N, C, F));
        OK(grpo_gpu_matmul_forward(&gpu, up, mlp_in, p->w_up + (size_t)l * F * C, NULL, N, C, F));
        OK(grpo_gpu_swiglu_forward(&gpu, hidden, gate, up, (size_t)N * F));
        OK(grpo_gpu_matmul_forward(&gpu, x_next, hidden, p->w_down + (size_t)l * C * F, NULL, N, F, C));
        OK(grpo_gpu_add_into(&gpu, x_next, x_mid, (size_t)N * C));
    }
    OK(grpo_gpu_rmsnorm_forward(&gpu, s->final_out, s->final_rstd, s->residual + (size_t)L * N * C, p->final_norm, N, C, c->norm_eps));
    OK(grpo_gpu_matmul_forward(&gpu, s->logits, s->final_out, p->lm_head ? p->lm_head : p->token_embedding, NULL, N, C, V));
    OK(grpo_gpu_logprob_forward(&gpu, s->row_logprobs, s->row_entropy, s->logits, s->targets, s->rows, N, N, V, temperature));
}

static void gpu_backward(gpu_state *s, const grpo_model *model, const grpo_parameters *p, grpo_parameters *g,
                         const float *rope_cos, const float *rope_sin, float temperature) {
    const grpo_config *c = &model->config;
    const grpo_activations *a = &model->acts;
    int N = a->rows, C = c->d_model, V = c->vocab_size, F = c->d_ff, L = c->n_layers, H = c->n_heads, KVH = c->n_kv_heads;
    int D = model->head_size, QD = H * D, KD = KVH * D;
    size_t layer_att = a->att_offsets[a->n_segments];
    OK(grpo_gpu_logprob_backward(&gpu, s->dlogits, s->row_dlogprobs, s->logits, s->targets, s->rows, N, N, V, temperature));
    OK(grpo_gpu_matmul_backward_set(&gpu, s->dnormed, p->lm_head ? g->lm_head : g->token_embedding, NULL, s->dlogits, s->final_out,
                                    p->lm_head ? p->lm_head : p->token_embedding, N, C, V));
    OK(grpo_gpu_zero(&gpu, s->dresidual, (size_t)N * C * sizeof(float)));
    OK(grpo_gpu_rmsnorm_backward(&gpu, s->dresidual, g->final_norm, s->dnormed, s->residual + (size_t)L * N * C, p->final_norm, s->final_rstd, N, C));
    for (int l = L - 1; l >= 0; l--) {
        const float *x = s->residual + (size_t)l * N * C, *x_mid = s->residual_mid + (size_t)l * N * C;
        const float *attn_in = s->attn_in + (size_t)l * N * C, *mlp_in = s->mlp_in + (size_t)l * N * C;
        const float *q = s->q + (size_t)l * N * QD, *k = s->k + (size_t)l * N * KD, *v = s->v + (size_t)l * N * KD;
        const float *att = s->att + (size_t)l * layer_att, *att_out = s->att_out + (size_t)l * N * QD;
        const float *gate = s->gate + (size_t)l * N * F, *up = s->up + (size_t)l * N * F, *hidden = s->hidden + (size_t)l * N * F;
        OK(grpo_gpu_matmul_backward_set(&gpu, s->dhidden, g->w_down + (size_t)l * C * F, NULL, s->dresidual, hidden, p->w_down + (size_t)l * C * F, N, F, C));
        OK(grpo_gpu_swiglu_backward(&gpu, s->dgate, s->dup, s->dhidden, gate, up, (size_t)N * F));
        OK(grpo_gpu_matmul_backward_set(&gpu, s->dnormed, g->w_gate + (size_t)l * F * C, NULL, s->dgate, mlp_in, p->w_gate + (size_t)l * F * C, N, C, F));
        OK(grpo_gpu_matmul_backward(&gpu, s->dnormed, g->w_up + (size_t)l * F * C, NULL, s->dup, mlp_in, p->w_up + (size_t)l * F * C, N, C, F));
        OK(grpo_gpu_rmsnorm_backward(&gpu, s->dresidual, g->mlp_norm + (size_t)l * C, s->dnormed, x_mid, p->mlp_norm + (size_t)l * C,
                                     s->mlp_rstd + (size_t)l * N, N, C));
        OK(grpo_gpu_matmul_backward_set(&gpu, s->datt_out, g->wo + (size_t)l * C * QD, NULL, s->dresidual, att_out, p->wo + (size_t)l * C * QD, N, QD, C));
        OK(grpo_gpu_zero(&gpu, s->dq, (size_t)N * QD * sizeof(float)));
        OK(grpo_gpu_zero(&gpu, s->dk, (size_t)N * KD * sizeof(float)));
        OK(grpo_gpu_zero(&gpu, s->dv, (size_t)N * KD * sizeof(float)));
        OK(grpo_gpu_attention_backward(&gpu, s->dq, s->dk, s->dv, s->datt, s->datt_out, att, q, k, v, s->segments, s->att_offsets,
                                       a->n_segments, s->families, a->n_families, H, KVH, D));
        OK(grpo_gpu_rope_rotate(&gpu, s->dq, rope_cos, rope_sin, N, 1, s->positions, H, D, -1.0f));
        OK(grpo_gpu_rope_rotate(&gpu, s->dk, rope_cos, rope_sin, N, 1, s->positions, KVH, D, -1.0f));
        OK(grpo_gpu_matmul_backward_set(&gpu, s->dnormed, g->wq + (size_t)l * QD * C, g->bq ? g->bq + (size_t)l * QD : NULL, s->dq, attn_in,
                                        p->wq + (size_t)l * QD * C, N, C, QD));
        OK(grpo_gpu_matmul_backward(&gpu, s->dnormed, g->wk + (size_t)l * KD * C, g->bk ? g->bk + (size_t)l * KD : NULL, s->dk, attn_in,
                                    p->wk + (size_t)l * KD * C, N, C, KD));
        OK(grpo_gpu_matmul_backward(&gpu, s->dnormed, g->wv + (size_t)l * KD * C, g->bv ? g->bv + (size_t)l * KD : NULL, s->dv, attn_in,
                                    p->wv + (size_t)l * KD * C, N, C, KD));
        OK(grpo_gpu_rmsnorm_backward(&gpu, s->dresidual, g->attn_norm + (size_t)l * C, s->dnormed, x, p->attn_norm + (size_t)l * C,
                                     s->attn_rstd + (size_t)l * N, N, C));
    }
    OK(grpo_gpu_embedding_backward(&gpu, g->token_embedding, s->dresidual, s->tokens, N, C));
}

static void test_model_training_step(void) {
    grpo_config config = {0};
    config.vocab_size = 61; config.context_length = 96; config.d_model = 48; config.n_layers = 2; config.n_heads = 4;
    config.n_kv_heads = 2; config.qkv_bias = 1; config.untied_head = 1;
    grpo_model model;
    OK(grpo_model_create(&model, &config, 11));
    const grpo_config *c = &model.config;
    /* 2 prompts x G = 3 completions; prompts of 6 and 70 tokens (past the CPU's 64-row block) */
    int G = 3, B = 6, T = 80, prefix_lengths[2] = {6, 70}, lengths[6] = {10, 14, 9, 75, 80, 72};
    int *tokens = (int *)calloc((size_t)B * T, sizeof(int)), *targets = (int *)calloc((size_t)B * T, sizeof(int));
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            int shared = t < prefix_lengths[b / G];
            size_t i = (size_t)b * T + t, i0 = (size_t)(b / G * G) * T + t;
            tokens[i] = shared && b % G ? tokens[i0] : (int)(grpo_rng_next(&rng) % (uint64_t)c->vocab_size);
            targets[i] = shared && b % G ? targets[i0] : (int)(grpo_rng_next(&rng) % (uint64_t)c->vocab_size);
        }
    float temperature = 0.9f;
    size_t BT = (size_t)B * T;
    float *logprobs = host_floats(BT), *entropy = host_floats(BT), *old = host_floats(BT), *mask = host_floats(BT), *dlp = host_floats(BT);
    float advantages[6] = {1.0f, -0.5f, -0.5f, 0.7f, 0.2f, -0.9f};
    OK(grpo_model_forward_shared(&model, tokens, targets, lengths, B, T, G, prefix_lengths, temperature, logprobs, entropy));
    const grpo_activations *a = &model.acts;
    int N = a->rows, C = c->d_model, V = c->vocab_size, F = c->d_ff, L = c->n_layers;
    int QD = c->n_heads * model.head_size, KD = c->n_kv_heads * model.head_size;
    size_t layer_att = a->att_offsets[a->n_segments];
    /* the device copies: weights, rotary tables, the forward's tables, activations, gradients */
    float *d_params = upload_floats(model.params_memory, model.num_parameters), *d_grads = device_alloc(model.num_parameters * sizeof(float));
    grpo_parameters p, g;
    grpo__point_parameters(&p, d_params, model.tensors);
    grpo__point_parameters(&g, d_grads, model.tensors);
    size_t rope_count = (size_t)c->context_length * (model.head_size / 2);
    float *d_cos = upload_floats(model.rope_cos, rope_count), *d_sin = upload_floats(model.rope_sin, rope_count);
    gpu_state s;
    memset(&s, 0, sizeof s);
    s.tokens = upload_ints(a->tokens, N); s.targets = upload_ints(a->targets, N); s.positions = upload_ints(a->positions, N);
    s.segments = upload_ints(a->segments, 4 * (size_t)a->n_segments); s.families = upload_ints(a->families, (size_t)a->n_families + 1);
    s.rows = upload_ints(&N, 1);
    s.att_offsets = (size_t *)upload(a->att_offsets, ((size_t)a->n_segments + 1) * sizeof(size_t));
    #define FLOATS(count) ((float *)device_alloc((size_t)(count) * sizeof(float)))
    s.residual = FLOATS((size_t)(L + 1) * N * C); s.attn_rstd = FLOATS((size_t)L * N); s.attn_in = FLOATS((size_t)L * N * C);
    s.q = FLOATS((size_t)L * N * QD); s.k = FLOATS((size_t)L * N * KD); s.v = FLOATS((size_t)L * N * KD);
    s.att = FLOATS((size_t)L * layer_att); s.att_out = FLOATS((size_t)L * N * QD); s.residual_mid = FLOATS((size_t)L * N * C);
    s.mlp_rstd = FLOATS((size_t)L * N); s.mlp_in = FLOATS((size_t)L * N * C); s.gate = FLOATS((size_t)L * N * F);
    s.up = FLOATS((size_t)L * N * F); s.hidden = FLOATS((size_t)L * N * F); s.final_rstd = FLOATS(N); s.final_out = FLOATS((size_t)N * C);
    s.logits = FLOATS((size_t)N * V); s.row_logprobs = FLOATS(N); s.row_entropy = FLOATS(N);
    s.dresidual = FLOATS((size_t)N * C); s.dnormed = FLOATS((size_t)N * C); s.dq = FLOATS((size_t)N * QD); s.dk = FLOATS((size_t)N * KD);
    s.dv = FLOATS((size_t)N * KD); s.datt_out = FLOATS((size_t)N * QD); s.dgate = FLOATS((size_t)N * F); s.dup = FLOATS((size_t)N * F);
    s.dhidden = FLOATS((size_t)N * F); s.dlogits = FLOATS((size_t)N * V); s.datt = FLOATS(layer_att); s.row_dlogprobs = FLOATS(N);
    #undef FLOATS

    gpu_forward(&s, &model, &p, d_cos, d_sin, temperature);
    /* the GPU's row values to the caller's (b, t), as grpo__forward does */
    float *row_values = host_floats(2 * (size_t)N), *gpu_logprobs = host_floats(BT), *gpu_entropy = host_floats(BT);
    download_floats(row_values, s.row_logprobs, N);
    download_floats(row_values + N, s.row_entropy, N);
    for (size_t i = 0; i < BT; i++) {
        gpu_logprobs[i] = a->row_of[i] >= 0 ? row_values[a->row_of[i]] : 0.0f;
        gpu_entropy[i] = a->row_of[i] >= 0 ? row_values[N + a->row_of[i]] : 0.0f;
    }
    CHECK(test_relative_error(gpu_logprobs, logprobs, BT) <= 1e-4, "model log-probs: %.3g", test_relative_error(gpu_logprobs, logprobs, BT));
    CHECK(test_relative_error(gpu_entropy, entropy, BT) <= 1e-4, "model entropy: %.3g", test_relative_error(gpu_entropy, entropy, BT));
    compare("model logits", s.logits, a->logits, (size_t)N * V, 1e-4);

    /* the GRPO loss on completion tokens (after each prompt), from each side's own log-probs */
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            size_t i = (size_t)b * T + t;
            mask[i] = (float)(t >= prefix_lengths[b / G] && t < lengths[b]);
            old[i] = logprobs[i] + 0.1f * grpo_rng_normal(&rng);
        }
    grpo_loss_config loss_config = {0};
    loss_config.beta = 0.04f;
    double total_tokens = 0.0;
    for (size_t i = 0; i < BT; i++) total_tokens += mask[i];
    grpo_loss_scale scale = {B, total_tokens, 1, T};
    float cpu_loss = grpo_loss(&loss_config, &scale, logprobs, old, old /* as ref */, advantages, mask, B, T, dlp, NULL), gpu_loss = 0.0f;
    float *d_lp = upload_floats(gpu_logprobs, BT), *d_old = upload_floats(old, BT), *d_mask = upload_floats(mask, BT);
    float *d_adv = upload_floats(advantages, B), *d_dlp = (float *)device_alloc(BT * sizeof(float));
    OK(grpo_gpu_loss(&gpu, &loss_config, &scale, d_lp, d_old, d_old, d_adv, d_mask, B, T, d_dlp, NULL, &gpu_loss));
    CHECK(fabsf(gpu_loss - cpu_loss) <= 1e-4f * fabsf(cpu_loss) + 1e-7f, "model GRPO loss %.9g vs %.9g", (double)gpu_loss, (double)cpu_loss);

    /* the backward: d loss / d log-prob gathered into rows (a shared prefix row adds over its
       group, in the caller's order, as grpo_model_backward does) */
    float *gpu_dlp = host_floats(BT), *row_dlogprobs = host_floats(N);
    download_floats(gpu_dlp, d_dlp, BT);
    for (size_t i = 0; i < BT; i++)
        if (a->row_of[i] >= 0) row_dlogprobs[a->row_of[i]] += gpu_dlp[i];
    OK(grpo_gpu_upload(&gpu, s.row_dlogprobs, row_dlogprobs, (size_t)N * sizeof(float)));
    gpu_backward(&s, &model, &p, &g, d_cos, d_sin, temperature);
    grpo_model_zero_grad(&model);
    OK(grpo_model_backward(&model, dlp));
    for (int t = 0; t < GRPO_NUM_TENSORS; t++) {
        const grpo_tensor_info *info = &model.tensors[t];
        if (info->count == 0) continue;
        char what[64];
        snprintf(what, sizeof what, "model gradient of %s", info->name);
        compare(what, d_grads + info->offset, model.grads_memory + info->offset, info->count, 1e-4);
    }

    /* AdamW on both sides */
    grpo_adamw optimizer;
    grpo_adamw_config adamw = {0};
    adamw.learning_rate = 1e-3f;
    adamw.weight_decay = 0.01f;
    OK(grpo_adamw_create(&optimizer, &model, &adamw));
    size_t P = model.num_parameters;
    float *d_m = (float *)device_alloc(P * sizeof(float)), *d_v = (float *)device_alloc(P * sizeof(float));
    uint64_t step = 0;
    OK(grpo_adamw_step(&optimizer, &model, NULL, NULL));
    OK(grpo_gpu_adamw_step(&gpu, &optimizer.config, &step, model.tensors, P, d_params, d_grads, d_m, d_v, NULL, NULL));
    compare("model weights after the GRPO step's AdamW", d_params, model.params_memory, P, 1e-5);
    grpo_adamw_destroy(&optimizer);
    free(gpu_dlp); free(row_dlogprobs);
    free(row_values); free(gpu_logprobs); free(gpu_entropy);
    free(tokens); free(targets); free(logprobs); free(entropy); free(old); free(mask); free(dlp);
    device_free_all();
    grpo_model_destroy(&model);
}

int main(void) {
    rng = grpo_rng_seed(2026);
    printf("test_gpu\n");
    TEST(test_errors_without_context);
    int count = 0;
    grpo_result r = grpo_gpu_device_count(&count);
    if (count == 0) {
        TEST(test_create_without_device);
        printf("skipped: every GPU op against the CPU, the whole model's training step (no GPU: %s)\n",
               r ? grpo_last_error() : "cudaGetDeviceCount found no device");
        return test_finish("test_gpu");
    }
    grpo_gpu_config config = {0};
    if (grpo_gpu_create(&gpu, &config)) {
        printf("  FAIL grpo_gpu_create: %s\n", grpo_last_error());
        return 1;
    }
    printf("device: %s (compute capability %d.%d, %d multiprocessors, %.1f GiB), TF32 %s\n", gpu.name, gpu.compute_capability / 10,
           gpu.compute_capability % 10, gpu.multiprocessors, (double)gpu.memory_bytes / 1073741824.0, config.allow_tf32 ? "on" : "off");
    TEST(test_create_errors);
    TEST(test_matmul);
    TEST(test_embedding);
    TEST(test_rmsnorm);
    TEST(test_rope);
    TEST(test_swiglu);
    TEST(test_logprob);
    TEST(test_attention);
    TEST(test_decode_attention);
    TEST(test_loss);
    TEST(test_adamw);
    TEST(test_sampling);
    TEST(test_model_training_step);
    grpo_gpu_destroy(&gpu);
    return test_finish("test_gpu");
}
