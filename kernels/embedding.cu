/* kernels/embedding.cu - token embedding lookup and its gradient (grpo.h section 6). */
#include "common.cuh"

/* one block per row, threads over the C columns */
static __global__ void grpo_gpu__embedding_forward_kernel(float *out, const int *tokens, const float *table, int C) {
    int n = blockIdx.x;
    const float *row = table + (size_t)tokens[n] * C;
    for (int c = threadIdx.x; c < C; c += blockDim.x) out[(size_t)n * C + c] = row[c];
}

/* Rows that share a token add into the same table row. One thread per column walks the rows in
   order, so each table entry gets its additions in the CPU's order (the same bits, no atomics);
   the parallelism is C threads, which is enough for an operation this small. */
static __global__ void grpo_gpu__embedding_backward_kernel(float *dtable, const float *dout, const int *tokens, int N, int C) {
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= C) return;
    for (int n = 0; n < N; n++) {
        float *entry = dtable + (size_t)tokens[n] * C + c;
        *entry = __fadd_rn(*entry, dout[(size_t)n * C + c]);
    }
}

grpo_result grpo_gpu_embedding_forward(grpo_gpu *gpu, float *out, const int *tokens, const float *table, int N, int C) {
    GRPO_GPU_REQUIRE(gpu, N >= 0 && C > 0, "grpo_gpu_embedding_forward: N = %d, C = %d", N, C);
    if (N == 0) return GRPO_SUCCESS;
    grpo_gpu__embedding_forward_kernel<<<N, C < 256 ? 128 : 256, 0, GRPO_GPU_STREAM(gpu)>>>(out, tokens, table, C);
    GRPO_GPU_CHECK_LAUNCH(grpo_gpu__embedding_forward_kernel);
    return GRPO_SUCCESS;
}

grpo_result grpo_gpu_embedding_backward(grpo_gpu *gpu, float *dtable, const float *dout, const int *tokens, int N, int C) {
    GRPO_GPU_REQUIRE(gpu, N >= 0 && C > 0, "grpo_gpu_embedding_backward: N = %d, C = %d", N, C);
    if (N == 0) return GRPO_SUCCESS;
    grpo_gpu__embedding_backward_kernel<<<grpo_gpu__blocks((size_t)C, 64), 64, 0, GRPO_GPU_STREAM(gpu)>>>(dtable, dout, tokens, N, C);
    GRPO_GPU_CHECK_LAUNCH(grpo_gpu__embedding_backward_kernel);
    return GRPO_SUCCESS;
}
