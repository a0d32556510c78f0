/* kernels/sampling.cu - drawing the next token of n sequences at once (grpo.h section 8,
   grpo__sample_token): softmax(logits / temperature) filtered by top-k, then top-p on the
   distribution renormalised after top-k (Hugging Face's warpers), or the argmax when greedy;
   the log-prob returned is the unfiltered one (lp_old). Row i draws one uniform number from its
   own stream rngs[i] (splitmix64, as grpo_rng_uniform), so a sequence's tokens do not depend on
   the batch.

   Same stream, same token as the CPU: the exponentials are grpo__expf's bits (common.cuh), the
   argmax is the first maximum, the candidates are sorted by (probability descending, token id
   ascending), a total order, so any correct sort gives qsort's order; and the sums and the
   cumulative searches run on one thread in the CPU's order. That serial part is O(V) per row (a
   few hundred microseconds at V = 152k): exact first; a parallel scan is the way to speed it up
   if it shows in a profile. The log-prob uses CUDA's logf (1 ulp), so it may differ from glibc's
   in the last bit. The sort for top-k/top-p is a block-wide bitonic sort over the next power of
   two >= V candidates in device scratch (8 bytes each per row). */
#include <limits.h>
#include "common.cuh"

#define GRPO_GPU__SAMPLE_THREADS 256

typedef struct { float p; int index; } grpo_gpu__candidate;

/* most likely first; ties by token id (grpo__candidate_order) */
__device__ __forceinline__ bool grpo_gpu__before(grpo_gpu__candidate a, grpo_gpu__candidate b) {
    return a.p > b.p || (a.p == b.p && a.index < b.index);
}

/* grpo_rng_uniform: splitmix64, the top 24 bits */
__device__ __forceinline__ float grpo_gpu__rng_uniform(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z = z ^ (z >> 31);
    return __fmul_rn((float)(z >> 40), 1.0f / 16777216.0f);
}

static __global__ void grpo_gpu__sample_kernel(int *tokens, float *logprobs, const float *logits, int V, int padded, float inv_t,
                                               int top_k, float top_p, int greedy, int filtered, grpo_rng *rngs, float *probs_all,
                                               grpo_gpu__candidate *candidates_all) {
    __shared__ float shared_value[32];
    __shared__ int shared_index[32];
    __shared__ float shared_max;
    __shared__ int shared_argmax;
    int i = blockIdx.x, lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
    const float *z = logits + (size_t)i * V;
    float *probs = probs_all + (size_t)i * V;
    /* the first maximum: each thread's in increasing j, then the larger value or, tied, the
       smaller index */
    float best = -INFINITY;
    int best_index = INT_MAX;
    for (int j = threadIdx.x; j < V; j += blockDim.x)
        if (best_index == INT_MAX || z[j] > best) { best = z[j]; best_index = j; }
    for (int offset = 16; offset > 0; offset >>= 1) {
        float other = __shfl_xor_sync(0xffffffffu, best, offset);
        int other_index = __shfl_xor_sync(0xffffffffu, best_index, offset);
        if (other > best || (other == best && other_index < best_index)) { best = other; best_index = other_index; }
    }
    if (lane == 0) { shared_value[warp] = best; shared_index[warp] = best_index; }
    __syncthreads();
    if (threadIdx.x == 0) {
        best = shared_value[0], best_index = shared_index[0];
        for (int w = 1; w < warps; w++)
            if (shared_value[w] > best || (shared_value[w] == best && shared_index[w] < best_index)) { best = shared_value[w]; best_index = shared_index[w]; }
        shared_max = best;
        shared_argmax = best_index;
    }
    __syncthreads();
    float maxval = shared_max;
    for (int j = threadIdx.x; j < V; j += blockDim.x) probs[j] = grpo_gpu__expf(__fmul_rn(__fsub_rn(z[j], maxval), inv_t));
    grpo_gpu__candidate *candidates = candidates_all ? candidates_all + (size_t)i * padded : NULL;
    if (filtered && !greedy) {
        __syncthreads();
        for (int j = threadIdx.x; j < padded; j += blockDim.x) {
            grpo_gpu__candidate c;
            c.p = j < V ? probs[j] : -1.0f; /* padding sorts last */
            c.index = j < V ? j : INT_MAX;
            candidates[j] = c;
        }
        __syncthreads();
        for (int size = 2; size <= padded; size <<= 1)
            for (int stride = size >> 1; stride > 0; stride >>= 1) {
                for (int j = threadIdx.x; j < padded; j += blockDim.x) {
                    int partner = j ^ stride;
                    if (partner <= j) continue;
                    grpo_gpu__candidate a = candidates[j], b = candidates[partner];
                    bool ascending = (j & size) == 0;
                    if (ascending ? grpo_gpu__before(b, a) : grpo_gpu__before(a, b)) { candidates[j] = b; candidates[partner] = a; }
                }
                __syncthreads();
            }
    }
    __syncthreads();
    if (threadIdx.x != 0) return;
    /* the CPU's sequential part, in its order */
    float sum = 0.0f;
    for (int j = 0; j < V; j++) sum = __fadd_rn(sum, probs[j]);
    float u = grpo_gpu__rng_uniform(&rngs[i].state);
    int token = shared_argmax;
    if (!greedy) {
        if (!filtered) {
            float target = __fmul_rn(u, sum), cumulative = 0.0f;
            token = -1;
            for (int j = 0; j < V && token < 0; j++) {
                cumulative = __fadd_rn(cumulative, probs[j]);
                if (target < cumulative) token = j;
            }
            if (token < 0) for (token = V - 1; token > 0 && probs[token] == 0.0f; token--) {} /* rounding at the top end */
        } else {
            int kept = (top_k > 0 && top_k < V) ? top_k : V;
            float mass = 0.0f;
            for (int c = 0; c < kept; c++) mass = __fadd_rn(mass, candidates[c].p);
            if (top_p < 1.0f) {
                float cumulative = 0.0f, limit = __fmul_rn(top_p, mass);
                for (int c = 0; c < kept; c++) {
                    cumulative = __fadd_rn(cumulative, candidates[c].p);
                    if (cumulative >= limit) { kept = c + 1; break; }
                }
                mass = 0.0f;
                for (int c = 0; c < kept; c++) mass = __fadd_rn(mass, candidates[c].p);
            }
            float target = __fmul_rn(u, mass), cumulative = 0.0f;
            token = candidates[kept - 1].index;
            for (int c = 0; c < kept; c++) {
                cumulative = __fadd_rn(cumulative, candidates[c].p);
                if (target < cumulative) { token = candidates[c].index; break; }
            }
        }
    }
    tokens[i] = token;
    logprobs[i] = __fsub_rn(__fmul_rn(__fsub_rn(z[token], maxval), inv_t), logf(sum));
}

grpo_result grpo_gpu_sample_tokens(grpo_gpu *gpu, int *tokens, float *logprobs, const float *logits, int n, int V,
                                   const grpo_sampling_config *sampling, grpo_rng *rngs) {
    GRPO_GPU_REQUIRE(gpu, sampling && n >= 0 && V > 0 && V <= (1 << 30) && sampling->temperature >= GRPO_MIN_TEMPERATURE &&
                     sampling->top_p > 0.0f && sampling->top_p <= 1.0f && sampling->top_k >= 0,
                     "grpo_gpu_sample_tokens: n = %d, V = %d, temperature = %g, top_k = %d, top_p = %g: expected a resolved sampling config "
                     "(temperature >= %g, top_k >= 0, top_p in (0, 1])", n, V, sampling ? (double)sampling->temperature : 0.0,
                     sampling ? sampling->top_k : 0, sampling ? (double)sampling->top_p : 0.0, (double)GRPO_MIN_TEMPERATURE);
    if (n == 0) return GRPO_SUCCESS;
    int filtered = (sampling->top_k > 0 && sampling->top_k < V) || sampling->top_p < 1.0f;
    int padded = 1;
    while (padded < V) padded <<= 1;
    size_t probs_bytes = (size_t)n * V * sizeof(float), probs_aligned = (probs_bytes + 255) / 256 * 256;
    size_t candidates_bytes = filtered && !sampling->greedy ? (size_t)n * padded * sizeof(grpo_gpu__candidate) : 0;
    void *scratch;
    grpo_result r = grpo_gpu__scratch(gpu, probs_aligned + candidates_bytes, &scratch);
    if (r) return r;
    float *probs = (float *)scratch;
    grpo_gpu__candidate *candidates = candidates_bytes ? (grpo_gpu__candidate *)((char *)scratch + probs_aligned) : NULL;
    grpo_gpu__sample_kernel<<<n, GRPO_GPU__SAMPLE_THREADS, 0, GRPO_GPU_STREAM(gpu)>>>(
        tokens, logprobs, logits, V, padded, 1.0f / sampling->temperature, sampling->top_k, sampling->top_p, sampling->greedy,
        filtered, rngs, probs, candidates);
    GRPO_GPU_CHECK_LAUNCH(grpo_gpu__sample_kernel);
    return GRPO_SUCCESS;
}
