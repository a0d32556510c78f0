/* kernels/gpu.cu - the GPU context, device memory, error messages, and the matmuls (cuBLAS)
   with their bias and residual kernels. See gpu.h. */
#include <cublas_v2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common.cuh"

grpo_result grpo_gpu__fail_cuda(cudaError_t error, const char *call, const char *function, const char *file, int line) {
    return grpo_set_error(GRPO_ERROR_GPU, "%s: %s failed: %s (%s) at %s:%d", function, call, cudaGetErrorString(error),
                          cudaGetErrorName(error), file, line);
}

static const char *grpo_gpu__cublas_name(cublasStatus_t status) {
    switch (status) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    default: return "an unknown cuBLAS status";
    }
}
#define GRPO_GPU_CHECK_CUBLAS(call)                                                                      \
    do {                                                                                                 \
        cublasStatus_t grpo_gpu__status = (call);                                                        \
        if (grpo_gpu__status != CUBLAS_STATUS_SUCCESS)                                                   \
            return grpo_set_error(GRPO_ERROR_GPU, "%s: %s failed: %s at %s:%d", __func__, #call,         \
                                  grpo_gpu__cublas_name(grpo_gpu__status), __FILE__, __LINE__);          \
    } while (0)

grpo_result grpo_gpu_device_count(int *count) {
    if (!count) return grpo_set_error(GRPO_ERROR_INVALID_ARGUMENT, "grpo_gpu_device_count: count is NULL");
    *count = 0;
    int n = 0;
    cudaError_t error = cudaGetDeviceCount(&n);
    if (error != cudaSuccess) {
        (void)cudaGetLastError(); /* clear it: the runtime keeps no GPU-less state to report later */
        return grpo_set_error(GRPO_ERROR_GPU, "cudaGetDeviceCount: %s (%s)", cudaGetErrorString(error), cudaGetErrorName(error));
    }
    *count = n;
    return GRPO_SUCCESS;
}

grpo_result grpo_gpu_create(grpo_gpu *gpu, const grpo_gpu_config *config) {
    if (!gpu) return grpo_set_error(GRPO_ERROR_INVALID_ARGUMENT, "grpo_gpu_create: gpu is NULL");
    memset(gpu, 0, sizeof *gpu);
    if (config) gpu->config = *config;
    int count = 0;
    grpo_result r = grpo_gpu_device_count(&count);
    if (r) return r;
    if (count == 0) return grpo_set_error(GRPO_ERROR_GPU, "grpo_gpu_create: cudaGetDeviceCount found no CUDA device");
    if (gpu->config.device < 0 || gpu->config.device >= count)
        return grpo_set_error(GRPO_ERROR_INVALID_CONFIG, "grpo_gpu_create: config.device = %d: expected 0 to %d (%d CUDA devices)",
                              gpu->config.device, count - 1, count);
    GRPO_GPU_CHECK(cudaSetDevice(gpu->config.device));
    cudaDeviceProp properties;
    GRPO_GPU_CHECK(cudaGetDeviceProperties(&properties, gpu->config.device));
    snprintf(gpu->name, sizeof gpu->name, "%s", properties.name);
    gpu->compute_capability = properties.major * 10 + properties.minor;
    gpu->multiprocessors = properties.multiProcessorCount;
    gpu->memory_bytes = properties.totalGlobalMem;
    cudaStream_t stream;
    GRPO_GPU_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    gpu->stream = stream;
    cublasHandle_t handle;
    cublasStatus_t status = cublasCreate(&handle);
    if (status != CUBLAS_STATUS_SUCCESS) {
        cudaStreamDestroy(stream);
        gpu->stream = NULL;
        return grpo_set_error(GRPO_ERROR_GPU, "grpo_gpu_create: cublasCreate failed: %s", grpo_gpu__cublas_name(status));
    }
    gpu->cublas = handle;
    /* Full fp32 unless asked: CUBLAS_DEFAULT_MATH does not convert fp32 inputs to TF32. */
    if ((status = cublasSetStream(handle, stream)) != CUBLAS_STATUS_SUCCESS ||
        (status = cublasSetMathMode(handle, gpu->config.allow_tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH)) != CUBLAS_STATUS_SUCCESS) {
        grpo_gpu_destroy(gpu);
        return grpo_set_error(GRPO_ERROR_GPU, "grpo_gpu_create: configuring cuBLAS failed: %s", grpo_gpu__cublas_name(status));
    }
    return GRPO_SUCCESS;
}

void grpo_gpu_destroy(grpo_gpu *gpu) {
    if (!gpu) return;
    if (gpu->stream) cudaStreamSynchronize(GRPO_GPU_STREAM(gpu));
    if (gpu->scratch) cudaFree(gpu->scratch);
    if (gpu->cublas) cublasDestroy((cublasHandle_t)gpu->cublas);
    if (gpu->stream) cudaStreamDestroy(GRPO_GPU_STREAM(gpu));
    free(gpu->host_partials);
    memset(gpu, 0, sizeof *gpu);
}

grpo_result grpo_gpu_synchronize(grpo_gpu *gpu) {
    GRPO_GPU_REQUIRE_CONTEXT(gpu);
    GRPO_GPU_CHECK(cudaStreamSynchronize(GRPO_GPU_STREAM(gpu)));
    return GRPO_SUCCESS;
}

grpo_result grpo_gpu_alloc(grpo_gpu *gpu, void **pointer, size_t bytes) {
    GRPO_GPU_REQUIRE(gpu, pointer != NULL, "grpo_gpu_alloc: pointer is NULL");
    *pointer = NULL;
    if (bytes == 0) return GRPO_SUCCESS;
    cudaError_t error = cudaMalloc(pointer, bytes);
    if (error != cudaSuccess) {
        *pointer = NULL;
        (void)cudaGetLastError();
        return grpo_set_error(error == cudaErrorMemoryAllocation ? GRPO_ERROR_OUT_OF_MEMORY : GRPO_ERROR_GPU,
                              "grpo_gpu_alloc: cudaMalloc of %.1f MiB on %s failed: %s", (double)bytes / 1048576.0, gpu->name,
                              cudaGetErrorString(error));
    }
    return GRPO_SUCCESS;
}

void grpo_gpu_free(grpo_gpu *gpu, void *pointer) {
    (void)gpu;
    if (pointer) cudaFree(pointer);
}

grpo_result grpo_gpu_upload(grpo_gpu *gpu, void *device, const void *host, size_t bytes) {
    GRPO_GPU_REQUIRE(gpu, bytes == 0 || (device && host), "grpo_gpu_upload: NULL pointer for %zu bytes", bytes);
    if (bytes == 0) return GRPO_SUCCESS;
    GRPO_GPU_CHECK(cudaMemcpyAsync(device, host, bytes, cudaMemcpyHostToDevice, GRPO_GPU_STREAM(gpu)));
    GRPO_GPU_CHECK(cudaStreamSynchronize(GRPO_GPU_STREAM(gpu)));
    return GRPO_SUCCESS;
}

grpo_result grpo_gpu_download(grpo_gpu *gpu, void *host, const void *device, size_t bytes) {
    GRPO_GPU_REQUIRE(gpu, bytes == 0 || (device && host), "grpo_gpu_download: NULL pointer for %zu bytes", bytes);
    if (bytes == 0) return GRPO_SUCCESS;
    GRPO_GPU_CHECK(cudaMemcpyAsync(host, device, bytes, cudaMemcpyDeviceToHost, GRPO_GPU_STREAM(gpu)));
    GRPO_GPU_CHECK(cudaStreamSynchronize(GRPO_GPU_STREAM(gpu)));
    return GRPO_SUCCESS;
}

grpo_result grpo_gpu_copy(grpo_gpu *gpu, void *device_dst, const void *device_src, size_t bytes) {
    GRPO_GPU_REQUIRE(gpu, bytes == 0 || (device_dst && device_src), "grpo_gpu_copy: NULL pointer for %zu bytes", bytes);
    if (bytes == 0) return GRPO_SUCCESS;
    GRPO_GPU_CHECK(cudaMemcpyAsync(device_dst, device_src, bytes, cudaMemcpyDeviceToDevice, GRPO_GPU_STREAM(gpu)));
    return GRPO_SUCCESS;
}

grpo_result grpo_gpu_zero(grpo_gpu *gpu, void *device, size_t bytes) {
    GRPO_GPU_REQUIRE(gpu, bytes == 0 || device, "grpo_gpu_zero: NULL pointer for %zu bytes", bytes);
    if (bytes == 0) return GRPO_SUCCESS;
    GRPO_GPU_CHECK(cudaMemsetAsync(device, 0, bytes, GRPO_GPU_STREAM(gpu)));
    return GRPO_SUCCESS;
}

grpo_result grpo_gpu__scratch(grpo_gpu *gpu, size_t bytes, void **out) {
    if (bytes > gpu->scratch_bytes) {
        GRPO_GPU_CHECK(cudaStreamSynchronize(GRPO_GPU_STREAM(gpu))); /* the old block may be in use */
        if (gpu->scratch) cudaFree(gpu->scratch);
        gpu->scratch = NULL;
        gpu->scratch_bytes = 0;
        grpo_result r = grpo_gpu_alloc(gpu, &gpu->scratch, bytes);
        if (r) return r;
        gpu->scratch_bytes = bytes;
    }
    *out = gpu->scratch;
    return GRPO_SUCCESS;
}

grpo_result grpo_gpu__host_partials(grpo_gpu *gpu, size_t count) {
    if (count <= gpu->host_partials_count) return GRPO_SUCCESS;
    double *memory = (double *)malloc(count * sizeof(double));
    if (!memory) return grpo_set_error(GRPO_ERROR_OUT_OF_MEMORY, "grpo_gpu: could not allocate %zu partial sums", count);
    free(gpu->host_partials);
    gpu->host_partials = memory;
    gpu->host_partials_count = count;
    return GRPO_SUCCESS;
}

/* ---- matmuls */

grpo_result grpo_gpu_sgemm(grpo_gpu *gpu, int trans_a, int trans_b, int M, int N, int K, float alpha,
                           const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    GRPO_GPU_REQUIRE(gpu, M >= 0 && N >= 0 && K >= 0, "grpo_gpu_sgemm: M = %d, N = %d, K = %d: expected >= 0", M, N, K);
    if (M == 0 || N == 0) return GRPO_SUCCESS;
    /* Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: cuBLAS sees each row-major
       matrix as its transpose, so the operands swap and keep their own transpose flags. */
    GRPO_GPU_CHECK_CUBLAS(cublasSgemm((cublasHandle_t)gpu->cublas, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                                      trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, N, M, K, &alpha, B, ldb, A, lda, &beta, C, ldc));
    return GRPO_SUCCESS;
}

static __global__ void grpo_gpu__add_into_kernel(float *y, const float *x, size_t count) {
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < count) y[i] = __fadd_rn(y[i], x[i]);
}

grpo_result grpo_gpu_add_into(grpo_gpu *gpu, float *y, const float *x, size_t count) {
    GRPO_GPU_REQUIRE_CONTEXT(gpu);
    if (count == 0) return GRPO_SUCCESS;
    grpo_gpu__add_into_kernel<<<grpo_gpu__blocks(count, 256), 256, 0, GRPO_GPU_STREAM(gpu)>>>(y, x, count);
    GRPO_GPU_CHECK_LAUNCH(grpo_gpu__add_into_kernel);
    return GRPO_SUCCESS;
}

static __global__ void grpo_gpu__bias_kernel(float *out, const float *bias, int N, int OC) {
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < (size_t)N * OC) out[i] = __fadd_rn(out[i], bias[i % OC]);
}

/* dbias[o] += sum over rows of dout[n][o], rows in order (the CPU's order: the same bits). */
static __global__ void grpo_gpu__bias_backward_kernel(float *dbias, const float *dout, int N, int OC) {
    int o = blockIdx.x * blockDim.x + threadIdx.x;
    if (o >= OC) return;
    float sum = 0.0f;
    for (int n = 0; n < N; n++) sum = __fadd_rn(sum, dout[(size_t)n * OC + o]);
    dbias[o] = __fadd_rn(dbias[o], sum);
}

grpo_result grpo_gpu_matmul_forward(grpo_gpu *gpu, float *out, const float *inp, const float *weight, const float *bias,
                                    int N, int IC, int OC) {
    GRPO_GPU_REQUIRE(gpu, N >= 0 && IC > 0 && OC > 0, "grpo_gpu_matmul_forward: N = %d, IC = %d, OC = %d", N, IC, OC);
    grpo_result r = grpo_gpu_sgemm(gpu, 0, 1, N, OC, IC, 1.0f, inp, IC, weight, IC, 0.0f, out, OC);
    if (r || !bias || N == 0) return r;
    grpo_gpu__bias_kernel<<<grpo_gpu__blocks((size_t)N * OC, 256), 256, 0, GRPO_GPU_STREAM(gpu)>>>(out, bias, N, OC);
    GRPO_GPU_CHECK_LAUNCH(grpo_gpu__bias_kernel);
    return GRPO_SUCCESS;
}

static grpo_result grpo_gpu__matmul_backward_beta(grpo_gpu *gpu, float *dinp, float *dweight, float *dbias, const float *dout,
                                                  const float *inp, const float *weight, int N, int IC, int OC, float beta) {
    GRPO_GPU_REQUIRE(gpu, N >= 0 && IC > 0 && OC > 0, "grpo_gpu_matmul_backward: N = %d, IC = %d, OC = %d", N, IC, OC);
    grpo_result r;
    if ((r = grpo_gpu_sgemm(gpu, 0, 0, N, IC, OC, 1.0f, dout, OC, weight, IC, beta, dinp, IC))) return r;
    if ((r = grpo_gpu_sgemm(gpu, 1, 0, OC, IC, N, 1.0f, dout, OC, inp, IC, 1.0f, dweight, IC))) return r;
    if (dbias) {
        grpo_gpu__bias_backward_kernel<<<grpo_gpu__blocks((size_t)OC, 128), 128, 0, GRPO_GPU_STREAM(gpu)>>>(dbias, dout, N, OC);
        GRPO_GPU_CHECK_LAUNCH(grpo_gpu__bias_backward_kernel);
    }
    return GRPO_SUCCESS;
}

grpo_result grpo_gpu_matmul_backward(grpo_gpu *gpu, float *dinp, float *dweight, float *dbias, const float *dout,
                                     const float *inp, const float *weight, int N, int IC, int OC) {
    return grpo_gpu__matmul_backward_beta(gpu, dinp, dweight, dbias, dout, inp, weight, N, IC, OC, 1.0f);
}

grpo_result grpo_gpu_matmul_backward_set(grpo_gpu *gpu, float *dinp, float *dweight, float *dbias, const float *dout,
                                         const float *inp, const float *weight, int N, int IC, int OC) {
    return grpo_gpu__matmul_backward_beta(gpu, dinp, dweight, dbias, dout, inp, weight, N, IC, OC, 0.0f);
}
