/* kernels/adamw.cu - AdamW with global gradient-norm clipping (grpo.h section 12) on device
   arrays. The update of each element is grpo__adamw_update's float operations in its order,
   unfused: given the same clip factor the new weights and moments are the CPU's bits. The norm is
   summed in double in fixed chunks (deterministic; equal to the CPU's to double rounding). As on
   the CPU, a non-finite gradient norm, or a new weight or moment that would be NaN or Inf (or a
   negative v), refuses the step before anything is written, naming the first such element. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include "common.cuh"

#define GRPO_GPU__CHUNK 65536
#define GRPO_GPU__ADAMW_THREADS 256

/* partial[c] = sum of x^2 over chunk c, in double */
static __global__ void grpo_gpu__sum_of_squares_kernel(double *partial, const float *x, size_t n) {
    __shared__ double shared[32];
    size_t begin = (size_t)blockIdx.x * GRPO_GPU__CHUNK, end = begin + GRPO_GPU__CHUNK < n ? begin + GRPO_GPU__CHUNK : n;
    double sum = 0.0;
    for (size_t i = begin + threadIdx.x; i < end; i += blockDim.x) sum += (double)x[i] * x[i];
    sum = grpo_gpu__block_sum_double(sum, shared);
    if (threadIdx.x == 0) partial[blockIdx.x] = sum;
}

grpo_result grpo_gpu_sum_of_squares(grpo_gpu *gpu, const float *x, size_t n, double *out) {
    GRPO_GPU_REQUIRE(gpu, out != NULL, "grpo_gpu_sum_of_squares: out is NULL");
    *out = 0.0;
    if (n == 0) return GRPO_SUCCESS;
    size_t chunks = (n + GRPO_GPU__CHUNK - 1) / GRPO_GPU__CHUNK;
    void *scratch;
    grpo_result r;
    if ((r = grpo_gpu__scratch(gpu, chunks * sizeof(double), &scratch))) return r;
    if ((r = grpo_gpu__host_partials(gpu, chunks))) return r;
    grpo_gpu__sum_of_squares_kernel<<<(unsigned)chunks, GRPO_GPU__ADAMW_THREADS, 0, GRPO_GPU_STREAM(gpu)>>>((double *)scratch, x, n);
    GRPO_GPU_CHECK_LAUNCH(grpo_gpu__sum_of_squares_kernel);
    if ((r = grpo_gpu_download(gpu, gpu->host_partials, scratch, chunks * sizeof(double)))) return r;
    double total = 0.0;
    for (size_t c = 0; c < chunks; c++) total += gpu->host_partials[c];
    *out = total;
    return GRPO_SUCCESS;
}

typedef struct { float clip, lr, beta1, beta2, eps, correction1, correction2, decay; } grpo_gpu__adamw_factors;

/* grpo__adamw_update, operation for operation */
__device__ __forceinline__ void grpo_gpu__adamw_update(const grpo_gpu__adamw_factors &f, float w, float g, float m, float v,
                                                       float *w_new, float *m_new, float *v_new) {
    float gi = __fmul_rn(g, f.clip);
    float mi = __fadd_rn(__fmul_rn(f.beta1, m), __fmul_rn(__fsub_rn(1.0f, f.beta1), gi));
    float vi = __fadd_rn(__fmul_rn(f.beta2, v), __fmul_rn(__fmul_rn(__fsub_rn(1.0f, f.beta2), gi), gi));
    float m_hat = __fdiv_rn(mi, f.correction1), v_hat = __fdiv_rn(vi, f.correction2);
    *w_new = __fsub_rn(w, __fmul_rn(f.lr, __fadd_rn(__fdiv_rn(m_hat, __fadd_rn(__fsqrt_rn(v_hat), f.eps)), __fmul_rn(f.decay, w))));
    *m_new = mi;
    *v_new = vi;
}

__device__ __forceinline__ int grpo_gpu__finite(float x) { return fabsf(x) <= FLT_MAX; }

/* *first_bad = the smallest index (offset + i) whose update is not finite or whose gradient is
   (mode 0: gradients only; mode 1: the update). atomicMin of an index: the result does not
   depend on the order. */
static __global__ void grpo_gpu__adamw_check_kernel(unsigned long long *first_bad, grpo_gpu__adamw_factors f, const float *w,
                                                    const float *grad, const float *m, const float *v, size_t count, int mode) {
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= count) return;
    int bad;
    if (mode == 0) {
        bad = !grpo_gpu__finite(grad[i]);
    } else {
        float w_new, m_new, v_new;
        grpo_gpu__adamw_update(f, w[i], grad[i], m[i], v[i], &w_new, &m_new, &v_new);
        bad = !(grpo_gpu__finite(w_new) && grpo_gpu__finite(m_new) && grpo_gpu__finite(v_new) && v_new >= 0.0f);
    }
    if (bad) atomicMin(first_bad, (unsigned long long)i);
}

static __global__ void grpo_gpu__adamw_update_kernel(grpo_gpu__adamw_factors f, float *w, const float *grad, float *m, float *v,
                                                     size_t count) {
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= count) return;
    grpo_gpu__adamw_update(f, w[i], grad[i], m[i], v[i], &w[i], &m[i], &v[i]);
}

/* "wq[1][3][7]": element i of a tensor by its indices, as grpo.h names it */
static void grpo_gpu__element_name(const grpo_tensor_info *t, size_t i, char *text, size_t size) {
    if (t->rank == 3) {
        size_t rows = (size_t)t->shape[1], columns = (size_t)t->shape[2];
        snprintf(text, size, "%s[%zu][%zu][%zu]", t->name, i / (rows * columns), i / columns % rows, i % columns);
    } else if (t->rank == 2) {
        snprintf(text, size, "%s[%zu][%zu]", t->name, i / (size_t)t->shape[1], i % (size_t)t->shape[1]);
    } else {
        snprintf(text, size, "%s[%zu]", t->name, i);
    }
}

/* Runs the check kernel over each tensor in order; *tensor_index and *element_index get the
   first bad element (-1 if none). */
static grpo_result grpo_gpu__adamw_find_bad(grpo_gpu *gpu, unsigned long long *device_flag, const grpo_gpu__adamw_factors *base,
                                            const grpo_adamw_config *c, const grpo_tensor_info *tensors, const float *params,
                                            const float *grads, const float *m, const float *v, int mode,
                                            int *tensor_index, unsigned long long *element_index) {
    *tensor_index = -1;
    for (int k = 0; k < GRPO_NUM_TENSORS; k++) {
        const grpo_tensor_info *info = &tensors[k];
        if (info->count == 0) continue;
        grpo_gpu__adamw_factors f = *base;
        f.decay = info->weight_decay ? c->weight_decay : 0.0f;
        unsigned long long none = ~0ull, found = ~0ull;
        grpo_result r;
        if ((r = grpo_gpu_upload(gpu, device_flag, &none, sizeof none))) return r;
        grpo_gpu__adamw_check_kernel<<<grpo_gpu__blocks(info->count, GRPO_GPU__ADAMW_THREADS), GRPO_GPU__ADAMW_THREADS, 0, GRPO_GPU_STREAM(gpu)>>>(
            device_flag, f, params + info->offset, grads + info->offset, m + info->offset, v + info->offset, info->count, mode);
        GRPO_GPU_CHECK_LAUNCH(grpo_gpu__adamw_check_kernel);
        if ((r = grpo_gpu_download(gpu, &found, device_flag, sizeof found))) return r;
        if (found != ~0ull) { *tensor_index = k; *element_index = found; return GRPO_SUCCESS; }
    }
    return GRPO_SUCCESS;
}

grpo_result grpo_gpu_adamw_step(grpo_gpu *gpu, const grpo_adamw_config *config, uint64_t *step,
                                const grpo_tensor_info *tensors, size_t num_parameters,
                                float *params, const float *grads, float *m, float *v,
                                float *grad_norm, float *learning_rate) {
    GRPO_GPU_REQUIRE(gpu, config && step && tensors && params && grads && m && v,
                     "grpo_gpu_adamw_step: config, step, tensors, params, grads, m and v must not be NULL");
    grpo_adamw_config c = grpo_adamw_config_resolve(config);
    double sum = 0.0;
    grpo_result r = grpo_gpu_sum_of_squares(gpu, grads, num_parameters, &sum);
    if (r) return r;
    double norm = sqrt(sum);
    if (grad_norm) *grad_norm = (float)norm;
    /* the flag lives behind the reduction's partial sums in the scratch block */
    size_t chunks = (num_parameters + GRPO_GPU__CHUNK - 1) / GRPO_GPU__CHUNK;
    void *scratch;
    if ((r = grpo_gpu__scratch(gpu, (chunks + 1) * sizeof(double), &scratch))) return r;
    unsigned long long *flag = (unsigned long long *)scratch + chunks;
    char element[96];
    grpo_gpu__adamw_factors f;
    memset(&f, 0, sizeof f);
    int bad_tensor;
    unsigned long long bad_element;
    if (!isfinite(norm)) {
        if ((r = grpo_gpu__adamw_find_bad(gpu, flag, &f, &c, tensors, params, grads, m, v, 0, &bad_tensor, &bad_element))) return r;
        if (bad_tensor >= 0) {
            float value;
            if ((r = grpo_gpu_download(gpu, &value, grads + tensors[bad_tensor].offset + bad_element, sizeof value))) return r;
            grpo_gpu__element_name(&tensors[bad_tensor], (size_t)bad_element, element, sizeof element);
            return grpo_set_error(GRPO_ERROR_NON_FINITE, "gpu adamw step %llu refused: the gradient of %s is %g; weights and optimizer state are unchanged",
                                  (unsigned long long)*step, element, (double)value);
        }
        return grpo_set_error(GRPO_ERROR_NON_FINITE, "gpu adamw step %llu refused: the gradient norm overflows; weights and optimizer state are unchanged",
                              (unsigned long long)*step);
    }
    /* torch.nn.utils.clip_grad_norm_: scale by max / (norm + 1e-6) when that is below 1 */
    f.clip = 1.0f;
    if (c.max_grad_norm > 0.0f && norm > c.max_grad_norm) f.clip = (float)(c.max_grad_norm / (norm + 1e-6));
    f.lr = grpo_adamw_learning_rate(&c, *step);
    if (learning_rate) *learning_rate = f.lr;
    uint64_t t = *step + 1;
    f.correction1 = (float)(1.0 - pow((double)c.beta1, (double)t));
    f.correction2 = (float)(1.0 - pow((double)c.beta2, (double)t));
    f.beta1 = c.beta1, f.beta2 = c.beta2, f.eps = c.epsilon;
    if ((r = grpo_gpu__adamw_find_bad(gpu, flag, &f, &c, tensors, params, grads, m, v, 1, &bad_tensor, &bad_element))) return r;
    if (bad_tensor >= 0) {
        const grpo_tensor_info *info = &tensors[bad_tensor];
        float values[4];
        const float *sources[4] = {params, grads, m, v};
        for (int s = 0; s < 4; s++)
            if ((r = grpo_gpu_download(gpu, &values[s], sources[s] + info->offset + bad_element, sizeof(float)))) return r;
        grpo_gpu__element_name(info, (size_t)bad_element, element, sizeof element);
        const char *what = !(isfinite(values[0]) && isfinite(values[2]) && isfinite(values[3])) ? "is already non-finite"
                           : values[3] < 0.0f ? "has a negative v" : "would become non-finite";
        return grpo_set_error(GRPO_ERROR_NON_FINITE, "gpu adamw step %llu refused: %s %s (weight %g, gradient %g, m %g, v %g, learning rate %g); weights and optimizer state are unchanged",
                              (unsigned long long)*step, element, what, (double)values[0], (double)values[1], (double)values[2],
                              (double)values[3], (double)f.lr);
    }
    for (int k = 0; k < GRPO_NUM_TENSORS; k++) {
        const grpo_tensor_info *info = &tensors[k];
        if (info->count == 0) continue;
        grpo_gpu__adamw_factors fk = f;
        fk.decay = info->weight_decay ? c.weight_decay : 0.0f;
        grpo_gpu__adamw_update_kernel<<<grpo_gpu__blocks(info->count, GRPO_GPU__ADAMW_THREADS), GRPO_GPU__ADAMW_THREADS, 0, GRPO_GPU_STREAM(gpu)>>>(
            fk, params + info->offset, grads + info->offset, m + info->offset, v + info->offset, info->count);
        GRPO_GPU_CHECK_LAUNCH(grpo_gpu__adamw_update_kernel);
    }
    *step = t;
    return GRPO_SUCCESS;
}
