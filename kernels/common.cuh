/* kernels/common.cuh - what every kernel file shares: error checks, the CPU's expf on the
   device, and warp/block reductions. Internal to kernels/ (names grpo_gpu__). */
#ifndef GRPO_GPU_COMMON_CUH
#define GRPO_GPU_COMMON_CUH
#include <cuda_runtime.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "gpu.h"

/* Turns a failed CUDA call into GRPO_ERROR_GPU with a message naming the call and the line. */
grpo_result grpo_gpu__fail_cuda(cudaError_t error, const char *call, const char *function, const char *file, int line);
#define GRPO_GPU_CHECK(call)                                                                   \
    do {                                                                                       \
        cudaError_t grpo_gpu__error = (call);                                                  \
        if (grpo_gpu__error != cudaSuccess)                                                    \
            return grpo_gpu__fail_cuda(grpo_gpu__error, #call, __func__, __FILE__, __LINE__); \
    } while (0)
/* After a launch: a bad configuration (grid, shared memory) is reported here, synchronously. */
#define GRPO_GPU_CHECK_LAUNCH(kernel_name) GRPO_GPU_CHECK(cudaGetLastError())
/* Refuses a call on a context that was not created, or with bad sizes. */
#define GRPO_GPU_REQUIRE(gpu, condition, ...)                                                  \
    do {                                                                                       \
        if (!(gpu) || !(gpu)->stream) return grpo_set_error(GRPO_ERROR_INVALID_STATE, "%s: the GPU context is not created (grpo_gpu_create)", __func__); \
        if (!(condition)) return grpo_set_error(GRPO_ERROR_INVALID_ARGUMENT, __VA_ARGS__);     \
    } while (0)
#define GRPO_GPU_REQUIRE_CONTEXT(gpu)                                                          \
    do {                                                                                       \
        if (!(gpu) || !(gpu)->stream) return grpo_set_error(GRPO_ERROR_INVALID_STATE, "%s: the GPU context is not created (grpo_gpu_create)", __func__); \
    } while (0)
#define GRPO_GPU_STREAM(gpu) ((cudaStream_t)(gpu)->stream)

/* Device scratch of at least bytes, grown on demand (growing waits for the stream). */
grpo_result grpo_gpu__scratch(grpo_gpu *gpu, size_t bytes, void **out);
/* Host room for count doubles (gpu->host_partials). */
grpo_result grpo_gpu__host_partials(grpo_gpu *gpu, size_t count);

static inline unsigned grpo_gpu__blocks(size_t count, unsigned threads) {
    return (unsigned)((count + threads - 1) / threads);
}

/* grpo__expf of grpo.h section 6, bit for bit: the same operations with every multiply and add
   rounded on its own (__fmul_rn and friends are never fused into an FMA, as gcc does not fuse
   them under -std=c11). */
__device__ __forceinline__ float grpo_gpu__expf(float x) {
    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    float n = __fsub_rn(__fadd_rn(__fmul_rn(x, 1.44269504088896341f), 12582912.0f), 12582912.0f);
    float r = __fsub_rn(x, __fmul_rn(n, 0.693359375f));
    r = __fadd_rn(r, __fmul_rn(n, 2.12194440e-4f));
    float p = 1.9875691500e-4f;
    p = __fadd_rn(__fmul_rn(p, r), 1.3981999507e-3f);
    p = __fadd_rn(__fmul_rn(p, r), 8.3334519073e-3f);
    p = __fadd_rn(__fmul_rn(p, r), 4.1665795894e-2f);
    p = __fadd_rn(__fmul_rn(p, r), 1.6666665459e-1f);
    p = __fadd_rn(__fmul_rn(p, r), 5.0000001201e-1f);
    p = __fadd_rn(__fadd_rn(__fmul_rn(__fmul_rn(p, r), r), r), 1.0f);
    uint32_t bits = (uint32_t)((int32_t)n + 127) << 23;
    return __fmul_rn(p, __uint_as_float(bits));
}

__device__ __forceinline__ float grpo_gpu__warp_sum(float x) {
    for (int offset = 16; offset > 0; offset >>= 1) x += __shfl_xor_sync(0xffffffffu, x, offset);
    return x;
}
__device__ __forceinline__ double grpo_gpu__warp_sum_double(double x) {
    for (int offset = 16; offset > 0; offset >>= 1) x += __shfl_xor_sync(0xffffffffu, x, offset);
    return x;
}
__device__ __forceinline__ float grpo_gpu__warp_max(float x) {
    for (int offset = 16; offset > 0; offset >>= 1) x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, offset));
    return x;
}

/* Block-wide sum and max for blockDim.x a multiple of 32 (at most 1024); every thread gets the
   result. shared: 32 floats. The order is fixed by the block size: deterministic. */
__device__ __forceinline__ float grpo_gpu__block_sum(float x, float *shared) {
    int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
    x = grpo_gpu__warp_sum(x);
    __syncthreads(); /* shared may still be read from a previous call */
    if (lane == 0) shared[warp] = x;
    __syncthreads();
    x = lane < warps ? shared[lane] : 0.0f;
    return grpo_gpu__warp_sum(x);
}
__device__ __forceinline__ double grpo_gpu__block_sum_double(double x, double *shared) {
    int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
    x = grpo_gpu__warp_sum_double(x);
    __syncthreads();
    if (lane == 0) shared[warp] = x;
    __syncthreads();
    x = lane < warps ? shared[lane] : 0.0;
    return grpo_gpu__warp_sum_double(x);
}
__device__ __forceinline__ float grpo_gpu__block_max(float x, float *shared) {
    int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
    x = grpo_gpu__warp_max(x);
    __syncthreads();
    if (lane == 0) shared[warp] = x;
    __syncthreads();
    x = lane < warps ? shared[lane] : -INFINITY;
    return grpo_gpu__warp_max(x);
}
#endif
