/* kernels/logprob.cu - log-probability of each target under softmax(logits / temperature), the
   entropy of that distribution, and the gradient (grpo.h section 6). One block per row of V
   logits; the max is exact, the sums run in a tree (equal to the CPU's to float rounding). */
#include "common.cuh"

#define GRPO_GPU__LOGPROB_THREADS 256

static __global__ void grpo_gpu__logprob_forward_kernel(float *logprobs, float *entropy, const float *logits, const int *targets,
                                                        const int *lengths, int T, int V, float inv_t) {
    __shared__ float shared[32];
    int n = blockIdx.x;
    if (n % T >= lengths[n / T]) {
        if (threadIdx.x == 0) { logprobs[n] = 0.0f; if (entropy) entropy[n] = 0.0f; }
        return;
    }
    const float *z = logits + (size_t)n * V;
    float maxval = -INFINITY;
    for (int j = threadIdx.x; j < V; j += blockDim.x) maxval = fmaxf(maxval, z[j]);
    maxval = grpo_gpu__block_max(maxval, shared);
    float sum = 0.0f, weighted = 0.0f;
    for (int j = threadIdx.x; j < V; j += blockDim.x) {
        float shifted = __fmul_rn(__fsub_rn(z[j], maxval), inv_t), e = grpo_gpu__expf(shifted);
        sum += e;
        weighted += e * shifted;
    }
    sum = grpo_gpu__block_sum(sum, shared);
    weighted = grpo_gpu__block_sum(weighted, shared);
    if (threadIdx.x == 0) {
        float log_z = logf(sum);
        logprobs[n] = __fsub_rn(__fmul_rn(__fsub_rn(z[targets[n]], maxval), inv_t), log_z);
        /* H = -sum p log p = log Z - sum p * shifted */
        if (entropy) entropy[n] = log_z - weighted / sum;
    }
}

/* d lp / d z_j = (1[j = y] - softmax_j(z / T)) / T, times dlogprobs; overwrites dlogits */
static __global__ void grpo_gpu__logprob_backward_kernel(float *dlogits, const float *dlogprobs, const float *logits,
                                                         const int *targets, const int *lengths, int T, int V, float inv_t) {
    __shared__ float shared[32];
    int n = blockIdx.x;
    float *dz = dlogits + (size_t)n * V;
    if (n % T >= lengths[n / T] || dlogprobs[n] == 0.0f) {
        for (int j = threadIdx.x; j < V; j += blockDim.x) dz[j] = 0.0f;
        return;
    }
    const float *z = logits + (size_t)n * V;
    float maxval = -INFINITY;
    for (int j = threadIdx.x; j < V; j += blockDim.x) maxval = fmaxf(maxval, z[j]);
    maxval = grpo_gpu__block_max(maxval, shared);
    float sum = 0.0f;
    for (int j = threadIdx.x; j < V; j += blockDim.x) {
        float e = grpo_gpu__expf(__fmul_rn(__fsub_rn(z[j], maxval), inv_t));
        dz[j] = e;
        sum += e;
    }
    sum = grpo_gpu__block_sum(sum, shared);
    float g = dlogprobs[n] * inv_t, scale = -g / sum;
    for (int j = threadIdx.x; j < V; j += blockDim.x) dz[j] = __fmul_rn(dz[j], scale);
    __syncthreads(); /* the target's entry may have been scaled by another thread */
    if (threadIdx.x == 0) dz[targets[n]] += g;
}

grpo_result grpo_gpu_logprob_forward(grpo_gpu *gpu, float *logprobs, float *entropy, const float *logits, const int *targets,
                                     const int *lengths, int N, int T, int V, float temperature) {
    GRPO_GPU_REQUIRE(gpu, N >= 0 && T > 0 && V > 0 && N % T == 0 && temperature > 0.0f,
                     "grpo_gpu_logprob_forward: N = %d, T = %d, V = %d, temperature = %g: expected N a multiple of T, temperature > 0",
                     N, T, V, (double)temperature);
    if (N == 0) return GRPO_SUCCESS;
    grpo_gpu__logprob_forward_kernel<<<N, GRPO_GPU__LOGPROB_THREADS, 0, GRPO_GPU_STREAM(gpu)>>>(logprobs, entropy, logits, targets,
                                                                                                 lengths, T, V, 1.0f / temperature);
    GRPO_GPU_CHECK_LAUNCH(grpo_gpu__logprob_forward_kernel);
    return GRPO_SUCCESS;
}

grpo_result grpo_gpu_logprob_backward(grpo_gpu *gpu, float *dlogits, const float *dlogprobs, const float *logits,
                                      const int *targets, const int *lengths, int N, int T, int V, float temperature) {
    GRPO_GPU_REQUIRE(gpu, N >= 0 && T > 0 && V > 0 && N % T == 0 && temperature > 0.0f,
                     "grpo_gpu_logprob_backward: N = %d, T = %d, V = %d, temperature = %g: expected N a multiple of T, temperature > 0",
                     N, T, V, (double)temperature);
    if (N == 0) return GRPO_SUCCESS;
    grpo_gpu__logprob_backward_kernel<<<N, GRPO_GPU__LOGPROB_THREADS, 0, GRPO_GPU_STREAM(gpu)>>>(dlogits, dlogprobs, logits, targets,
                                                                                                  lengths, T, V, 1.0f / temperature);
    GRPO_GPU_CHECK_LAUNCH(grpo_gpu__logprob_backward_kernel);
    return GRPO_SUCCESS;
}
