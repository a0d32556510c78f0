/* kernels/swiglu.cu - SwiGLU (grpo.h section 6): hidden = silu(gate) * up. The CPU's operations
   in its order, unfused, with its expf: the same bits. */
#include "common.cuh"

static __global__ void grpo_gpu__swiglu_forward_kernel(float *hidden, const float *gate, const float *up, size_t count) {
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= count) return;
    float g = gate[i];
    hidden[i] = __fmul_rn(__fdiv_rn(g, __fadd_rn(1.0f, grpo_gpu__expf(-g))), up[i]);
}

/* silu'(g) = sigmoid(g) * (1 + g * (1 - sigmoid(g))); overwrites dgate and dup */
static __global__ void grpo_gpu__swiglu_backward_kernel(float *dgate, float *dup, const float *dhidden, const float *gate,
                                                        const float *up, size_t count) {
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= count) return;
    float g = gate[i], sig = __fdiv_rn(1.0f, __fadd_rn(1.0f, grpo_gpu__expf(-g))), dh = dhidden[i];
    dup[i] = __fmul_rn(__fmul_rn(dh, g), sig);
    dgate[i] = __fmul_rn(__fmul_rn(__fmul_rn(dh, up[i]), sig), __fadd_rn(1.0f, __fmul_rn(g, __fsub_rn(1.0f, sig))));
}

grpo_result grpo_gpu_swiglu_forward(grpo_gpu *gpu, float *hidden, const float *gate, const float *up, size_t count) {
    GRPO_GPU_REQUIRE_CONTEXT(gpu);
    if (count == 0) return GRPO_SUCCESS;
    grpo_gpu__swiglu_forward_kernel<<<grpo_gpu__blocks(count, 256), 256, 0, GRPO_GPU_STREAM(gpu)>>>(hidden, gate, up, count);
    GRPO_GPU_CHECK_LAUNCH(grpo_gpu__swiglu_forward_kernel);
    return GRPO_SUCCESS;
}

grpo_result grpo_gpu_swiglu_backward(grpo_gpu *gpu, float *dgate, float *dup, const float *dhidden, const float *gate,
                                     const float *up, size_t count) {
    GRPO_GPU_REQUIRE_CONTEXT(gpu);
    if (count == 0) return GRPO_SUCCESS;
    grpo_gpu__swiglu_backward_kernel<<<grpo_gpu__blocks(count, 256), 256, 0, GRPO_GPU_STREAM(gpu)>>>(dgate, dup, dhidden, gate, up, count);
    GRPO_GPU_CHECK_LAUNCH(grpo_gpu__swiglu_backward_kernel);
    return GRPO_SUCCESS;
}
