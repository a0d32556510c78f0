/* kernels/rmsnorm.cu - RMSNorm forward and backward (grpo.h section 6):
   y = x / sqrt(mean(x^2) + eps) * weight, as in Llama. */
#include "common.cuh"

#define GRPO_GPU__NORM_THREADS 256

/* one block per row; rstd[n] = 1 / sqrt(mean(x^2) + eps) */
static __global__ void grpo_gpu__rmsnorm_forward_kernel(float *out, float *rstd, const float *inp, const float *weight,
                                                        int C, float eps) {
    __shared__ float shared[32];
    int n = blockIdx.x;
    const float *x = inp + (size_t)n * C;
    float sum = 0.0f;
    for (int c = threadIdx.x; c < C; c += blockDim.x) sum += x[c] * x[c];
    sum = grpo_gpu__block_sum(sum, shared);
    float s = 1.0f / sqrtf(sum / (float)C + eps);
    for (int c = threadIdx.x; c < C; c += blockDim.x) out[(size_t)n * C + c] = __fmul_rn(__fmul_rn(x[c], s), weight[c]);
    if (threadIdx.x == 0) rstd[n] = s;
}

/* dx += s * (dy*w - x_hat * mean(dy*w*x_hat)), x_hat = x * s; one block per row */
static __global__ void grpo_gpu__rmsnorm_backward_kernel(float *dinp, const float *dout, const float *inp, const float *weight,
                                                         const float *rstd, int C) {
    __shared__ float shared[32];
    int n = blockIdx.x;
    const float *x = inp + (size_t)n * C, *dy = dout + (size_t)n * C;
    float *dx = dinp + (size_t)n * C;
    float s = rstd[n], dot = 0.0f;
    for (int c = threadIdx.x; c < C; c += blockDim.x) dot += dy[c] * weight[c] * x[c] * s;
    dot = grpo_gpu__block_sum(dot, shared) / (float)C;
    for (int c = threadIdx.x; c < C; c += blockDim.x)
        dx[c] = __fadd_rn(dx[c], __fmul_rn(s, __fsub_rn(__fmul_rn(dy[c], weight[c]), __fmul_rn(__fmul_rn(x[c], s), dot))));
}

/* dweight[c] += sum over rows of dy * x * s, rows in order: the CPU's order and bits */
static __global__ void grpo_gpu__rmsnorm_weight_kernel(float *dweight, const float *dout, const float *inp, const float *rstd,
                                                       int N, int C) {
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= C) return;
    float sum = 0.0f;
    for (int n = 0; n < N; n++)
        sum = __fadd_rn(sum, __fmul_rn(__fmul_rn(dout[(size_t)n * C + c], inp[(size_t)n * C + c]), rstd[n]));
    dweight[c] = __fadd_rn(dweight[c], sum);
}

grpo_result grpo_gpu_rmsnorm_forward(grpo_gpu *gpu, float *out, float *rstd, const float *inp, const float *weight,
                                     int N, int C, float eps) {
    GRPO_GPU_REQUIRE(gpu, N >= 0 && C > 0, "grpo_gpu_rmsnorm_forward: N = %d, C = %d", N, C);
    if (N == 0) return GRPO_SUCCESS;
    grpo_gpu__rmsnorm_forward_kernel<<<N, GRPO_GPU__NORM_THREADS, 0, GRPO_GPU_STREAM(gpu)>>>(out, rstd, inp, weight, C, eps);
    GRPO_GPU_CHECK_LAUNCH(grpo_gpu__rmsnorm_forward_kernel);
    return GRPO_SUCCESS;
}

grpo_result grpo_gpu_rmsnorm_backward(grpo_gpu *gpu, float *dinp, float *dweight, const float *dout, const float *inp,
                                      const float *weight, const float *rstd, int N, int C) {
    GRPO_GPU_REQUIRE(gpu, N >= 0 && C > 0, "grpo_gpu_rmsnorm_backward: N = %d, C = %d", N, C);
    if (N == 0) return GRPO_SUCCESS;
    grpo_gpu__rmsnorm_backward_kernel<<<N, GRPO_GPU__NORM_THREADS, 0, GRPO_GPU_STREAM(gpu)>>>(dinp, dout, inp, weight, rstd, C);
    GRPO_GPU_CHECK_LAUNCH(grpo_gpu__rmsnorm_backward_kernel);
    grpo_gpu__rmsnorm_weight_kernel<<<grpo_gpu__blocks((size_t)C, 64), 64, 0, GRPO_GPU_STREAM(gpu)>>>(dweight, dout, inp, rstd, N, C);
    GRPO_GPU_CHECK_LAUNCH(grpo_gpu__rmsnorm_weight_kernel);
    return GRPO_SUCCESS;
}
