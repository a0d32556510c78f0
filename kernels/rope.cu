/* kernels/rope.cu - rotary position embeddings in place (grpo.h section 6): each pair
   (x_i, x_{i+D/2}) of a head rotated by the angle of its row's position; the backward is the
   rotation by the opposite angle (sign = -1). The CPU's operations, unfused: the same bits. */
#include "common.cuh"

/* one thread per (row, head, i < D/2) */
static __global__ void grpo_gpu__rope_kernel(float *x, const float *cos_table, const float *sin_table, int rows, int T,
                                             const int *positions, int n_heads, int D, float sign) {
    int half = D / 2;
    size_t index = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (index >= (size_t)rows * n_heads * half) return;
    int i = (int)(index % half);
    size_t head = index / half;
    int row = (int)(head / n_heads);
    int t = positions ? positions[row] : row % T;
    float *v = x + head * D;
    float cs = cos_table[(size_t)t * half + i], s = __fmul_rn(sign, sin_table[(size_t)t * half + i]);
    float a = v[i], b = v[i + half];
    v[i] = __fsub_rn(__fmul_rn(a, cs), __fmul_rn(b, s));
    v[i + half] = __fadd_rn(__fmul_rn(b, cs), __fmul_rn(a, s));
}

grpo_result grpo_gpu_rope_rotate(grpo_gpu *gpu, float *x, const float *cos_table, const float *sin_table, int rows, int T,
                                 const int *positions, int n_heads, int D, float sign) {
    GRPO_GPU_REQUIRE(gpu, rows >= 0 && T > 0 && n_heads > 0 && D > 0 && D % 2 == 0,
                     "grpo_gpu_rope_rotate: rows = %d, T = %d, n_heads = %d, D = %d: expected D even", rows, T, n_heads, D);
    size_t count = (size_t)rows * n_heads * (D / 2);
    if (count == 0) return GRPO_SUCCESS;
    grpo_gpu__rope_kernel<<<grpo_gpu__blocks(count, 256), 256, 0, GRPO_GPU_STREAM(gpu)>>>(x, cos_table, sin_table, rows, T,
                                                                                            positions, n_heads, D, sign);
    GRPO_GPU_CHECK_LAUNCH(grpo_gpu__rope_kernel);
    return GRPO_SUCCESS;
}

grpo_result grpo_gpu_rope_forward(grpo_gpu *gpu, float *x, const float *c, const float *s, int B, int T, int nh, int D) {
    return grpo_gpu_rope_rotate(gpu, x, c, s, B * T, T, NULL, nh, D, 1.0f);
}

grpo_result grpo_gpu_rope_backward(grpo_gpu *gpu, float *dx, const float *c, const float *s, int B, int T, int nh, int D) {
    return grpo_gpu_rope_rotate(gpu, dx, c, s, B * T, T, NULL, nh, D, -1.0f);
}
