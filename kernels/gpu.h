/* kernels/gpu.h - grpo.h's layers on an NVIDIA GPU (CUDA runtime + cuBLAS).

   The GPU build is the same engine with the .cu files in this folder compiled in: each launcher
   here keeps the name, argument order and meaning of the CPU function in grpo.h's sections 6
   (layers), 8 (sampling, decode attention), 10 (the GRPO loss) and 12 (AdamW), with `grpo__`
   replaced by `grpo_gpu_` and a grpo_gpu context first:

       grpo__rmsnorm_forward(out, rstd, inp, weight, N, C, eps)                     CPU
       grpo_gpu_rmsnorm_forward(gpu, out, rstd, inp, weight, N, C, eps)            GPU

   Array arguments are DEVICE pointers (grpo_gpu_alloc) unless a comment says "host". Forwards
   overwrite their outputs and backwards accumulate (+=) exactly where the CPU function does.
   Launches are asynchronous on the context's stream; every CUDA and cuBLAS call and every launch
   is checked, and a failure returns GRPO_ERROR_GPU with a message (grpo_last_error) naming the
   call, the CUDA error and the source line. An error from a kernel that already ran
   asynchronously shows up at the next call that synchronises (downloads, grpo_gpu_synchronize).

   Build: `make GPU=1` compiles the .cu files of kernels/ with nvcc (sm_90: H100, H200) into
   build/gpu/libgrpo_gpu.a; link it with -lcudart -lcublas -lstdc++ beside the C file that
   defines GRPO_IMPLEMENTATION (not GRPO_STATIC: the kernels call grpo.h's public functions).

   Numbers. Matmuls go through cuBLAS in full fp32 by default (TF32 off, so results match the
   CPU's fp32 to float rounding); grpo_gpu_config.allow_tf32 = 1 lets cuBLAS use TF32 tensor cores
   (about 1e-3 relative error per product). Elementwise kernels (RoPE, SwiGLU, AdamW, embedding,
   the weight gradients of RMSNorm, biases and the embedding) do the CPU's float operations in the
   CPU's order without fused multiply-adds, so they give the same bits; reductions inside a row
   (RMSNorm, softmax, log-softmax, attention) sum in a different order: equal to float rounding.
   Results on the GPU are deterministic: no atomics in any sum.

   STATUS: compiled and linked in CI (nvcc); tests/test_gpu.c checks every launcher against the
   CPU function when a GPU is present. See README.md, "GPU build", for what has run where. */
#ifndef GRPO_GPU_H_INCLUDED
#define GRPO_GPU_H_INCLUDED
#include "grpo.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int device;       /* CUDA device index; default 0 */
    int allow_tf32;   /* 1: cuBLAS may use TF32 tensor cores for fp32 matmuls; default 0 (full fp32) */
} grpo_gpu_config;

/* A device, a stream, a cuBLAS handle and scratch. One per thread. */
typedef struct {
    grpo_gpu_config config;
    void *stream;                /* cudaStream_t: every launch and copy of this context */
    void *cublas;                /* cublasHandle_t, bound to stream */
    void *scratch;               /* device scratch for reductions and sampling, grown on demand */
    size_t scratch_bytes;
    double *host_partials;       /* host copy of per-block partial sums */
    size_t host_partials_count;
    char name[256];              /* the device's name, e.g. "NVIDIA H100 80GB HBM3" */
    int compute_capability;      /* e.g. 90 */
    int multiprocessors;
    size_t memory_bytes;         /* total device memory */
} grpo_gpu;

/* The number of CUDA devices. With no device or no driver *count is 0 and the result says why
   (GRPO_ERROR_GPU, message from cudaGetDeviceCount); tests print "skipped: no GPU" then. */
grpo_result grpo_gpu_device_count(int *count);
grpo_result grpo_gpu_create(grpo_gpu *gpu, const grpo_gpu_config *config /* may be NULL */);
void grpo_gpu_destroy(grpo_gpu *gpu);
grpo_result grpo_gpu_synchronize(grpo_gpu *gpu);

/* Device memory. alloc of 0 bytes gives NULL; free(NULL) does nothing. upload/download copy
   host <-> device and wait for the copy (and everything before it on the stream). */
grpo_result grpo_gpu_alloc(grpo_gpu *gpu, void **pointer, size_t bytes);
void grpo_gpu_free(grpo_gpu *gpu, void *pointer);
grpo_result grpo_gpu_upload(grpo_gpu *gpu, void *device, const void *host, size_t bytes);
grpo_result grpo_gpu_download(grpo_gpu *gpu, void *host, const void *device, size_t bytes);
grpo_result grpo_gpu_copy(grpo_gpu *gpu, void *device_dst, const void *device_src, size_t bytes);
grpo_result grpo_gpu_zero(grpo_gpu *gpu, void *device, size_t bytes);

/* ---- matmuls (kernels/gpu.cu): cuBLAS, row-major like grpo__sgemm */
/* C (M, N) = alpha op(A) op(B) + beta C; op transposes when trans_ is 1. */
grpo_result grpo_gpu_sgemm(grpo_gpu *gpu, int trans_a, int trans_b, int M, int N, int K, float alpha,
                           const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc);
/* y += x */
grpo_result grpo_gpu_add_into(grpo_gpu *gpu, float *y, const float *x, size_t count);
/* out (N, OC) = inp (N, IC) W^T + bias; W (OC, IC), bias (OC) or NULL */
grpo_result grpo_gpu_matmul_forward(grpo_gpu *gpu, float *out, const float *inp, const float *weight, const float *bias,
                                    int N, int IC, int OC);
/* dinp += dout W; dweight += dout^T inp; dbias += column sums of dout. _set overwrites dinp. */
grpo_result grpo_gpu_matmul_backward(grpo_gpu *gpu, float *dinp, float *dweight, float *dbias, const float *dout,
                                     const float *inp, const float *weight, int N, int IC, int OC);
grpo_result grpo_gpu_matmul_backward_set(grpo_gpu *gpu, float *dinp, float *dweight, float *dbias, const float *dout,
                                         const float *inp, const float *weight, int N, int IC, int OC);

/* ---- kernels/embedding.cu: x (N, C) = table[tokens]; dtable[tokens[n]] += dout[n], rows in order */
grpo_result grpo_gpu_embedding_forward(grpo_gpu *gpu, float *out, const int *tokens, const float *table, int N, int C);
grpo_result grpo_gpu_embedding_backward(grpo_gpu *gpu, float *dtable, const float *dout, const int *tokens, int N, int C);

/* ---- kernels/rmsnorm.cu: y = x / sqrt(mean(x^2) + eps) * weight, rstd (N) kept */
grpo_result grpo_gpu_rmsnorm_forward(grpo_gpu *gpu, float *out, float *rstd, const float *inp, const float *weight,
                                     int N, int C, float eps);
grpo_result grpo_gpu_rmsnorm_backward(grpo_gpu *gpu, float *dinp, float *dweight, const float *dout, const float *inp,
                                      const float *weight, const float *rstd, int N, int C);

/* ---- kernels/rope.cu: in place on x (rows, n_heads, D); row r at positions[r], or r % T when
   positions is NULL; sign 1 forward, -1 backward. cos_table, sin_table (context, D/2). */
grpo_result grpo_gpu_rope_rotate(grpo_gpu *gpu, float *x, const float *cos_table, const float *sin_table, int rows, int T,
                                 const int *positions, int n_heads, int D, float sign);
grpo_result grpo_gpu_rope_forward(grpo_gpu *gpu, float *x, const float *c, const float *s, int B, int T, int nh, int D);
grpo_result grpo_gpu_rope_backward(grpo_gpu *gpu, float *dx, const float *c, const float *s, int B, int T, int nh, int D);

/* ---- kernels/attention.cu: causal GQA attention over segments, as grpo__attention_forward /
   _backward: segments (n_segments, 4) and att_offsets (n_segments + 1) are the forward's tables
   (grpo_activations), on the device; att the same layout (each row's P over the prefix and its
   own keys j <= t, zeros right of it, where the CPU leaves entries right of a 64-row block
   unwritten). D at most 256. The backward's scratch holds one layer's att:
   att_offsets[n_segments] floats (the CPU's holds n_families x KVH blocks). */
grpo_result grpo_gpu_attention_forward(grpo_gpu *gpu, float *out, float *att, const float *q, const float *k, const float *v,
                                       const int *segments, const size_t *att_offsets, int n_segments, int H, int KVH, int D);
grpo_result grpo_gpu_attention_backward(grpo_gpu *gpu, float *dq, float *dk, float *dv, float *scratch, const float *dout,
                                        const float *att, const float *q, const float *k, const float *v,
                                        const int *segments, const size_t *att_offsets, int n_segments,
                                        const int *families, int n_families, int H, int KVH, int D);
/* Decode: one query per active row i and head h against its prompt's cached keys/values and its
   own generated ones, the loop of grpo__decode_team over grpo__decode_attend with the
   generator's cache layout (keys in (D, 16) blocks of 16 positions). prompt_k/_v and cache_k/_v
   are one layer's slices of grpo_generator's prompt_k, prompt_v, cache_k, cache_v (device
   copies); row_sequence, row_step (n) and prompt_lengths as in grpo_generator; prompt b =
   sequence / G. scores: (n * H, context_length + 32) floats of scratch. */
grpo_result grpo_gpu_decode_attention(grpo_gpu *gpu, float *att_out, float *scores, const float *q,
                                      const float *prompt_k, const float *prompt_v, const int *prompt_lengths,
                                      const float *cache_k, const float *cache_v, const int *row_sequence, const int *row_step,
                                      int n, int G, int H, int KVH, int D, int context_length, int max_new_tokens);
/* The prefill's keys and values of one layer (k, v (rows, KVH*D) from the forward over the
   prompts; prompt b's positions are rows first_rows[b] + t, t < prompt_lengths[b], as
   acts.row_of[b * T] gives them) into that layer's slice of the prompt cache: what
   grpo__decode_prefill does for each layer. */
grpo_result grpo_gpu_decode_store_prompt(grpo_gpu *gpu, float *prompt_k, float *prompt_v, const float *k, const float *v,
                                         const int *first_rows, const int *prompt_lengths, int n_prompts, int KVH, int D,
                                         int context_length);
/* Row i's key and value (k, v (n, KVH*D), after RoPE) into its sequence's cache at step
   row_step[i], in the layout above (what grpo__decode_team does before attending). */
grpo_result grpo_gpu_decode_store_kv(grpo_gpu *gpu, float *cache_k, float *cache_v, const float *k, const float *v,
                                     const int *row_sequence, const int *row_step, int n, int KVH, int D, int max_new_tokens);

/* ---- kernels/swiglu.cu: hidden = silu(gate) * up; the backward overwrites dgate and dup */
grpo_result grpo_gpu_swiglu_forward(grpo_gpu *gpu, float *hidden, const float *gate, const float *up, size_t count);
grpo_result grpo_gpu_swiglu_backward(grpo_gpu *gpu, float *dgate, float *dup, const float *dhidden, const float *gate,
                                     const float *up, size_t count);

/* ---- kernels/logprob.cu: log softmax(logits / temperature)[target] and entropy (NULL: not
   computed) over rows n = b*T + t; rows with t >= lengths[b] (device, B = N / T) give 0. The
   backward overwrites dlogits. */
grpo_result grpo_gpu_logprob_forward(grpo_gpu *gpu, float *logprobs, float *entropy, const float *logits, const int *targets,
                                     const int *lengths, int N, int T, int V, float temperature);
grpo_result grpo_gpu_logprob_backward(grpo_gpu *gpu, float *dlogits, const float *dlogprobs, const float *logits,
                                      const int *targets, const int *lengths, int N, int T, int V, float temperature);

/* ---- kernels/grpo_loss.cu: grpo_loss on device arrays (logprobs, old_logprobs, ref_logprobs
   or NULL, mask, dlogprobs (N, T); advantages (N)); config, scale, stats and *loss are host.
   Every loss_type (dapo, grpo, bnpo, dr_grpo), KL estimator (k3, k1, k2, importance-weighted
   k3), clipping and dual-clip, in double per token as the CPU. */
grpo_result grpo_gpu_loss(grpo_gpu *gpu, const grpo_loss_config *config, const grpo_loss_scale *scale, const float *logprobs,
                          const float *old_logprobs, const float *ref_logprobs, const float *advantages,
                          const float *mask, int N, int T, float *dlogprobs, grpo_loss_stats *stats, float *loss);

/* ---- kernels/adamw.cu: grpo_adamw_step on device arrays: params, grads, m, v
   (num_parameters each, in the layout of tensors (host, GRPO_NUM_TENSORS entries, e.g.
   model->tensors)). config and *step (host) are the optimizer's; *step advances. The same
   refusals as the CPU (non-finite gradient norm, a non-finite new weight or moment: message
   names the first element, nothing changes); grad_norm, learning_rate (host) may be NULL. */
grpo_result grpo_gpu_adamw_step(grpo_gpu *gpu, const grpo_adamw_config *config, uint64_t *step,
                                const grpo_tensor_info *tensors, size_t num_parameters,
                                float *params, const float *grads, float *m, float *v,
                                float *grad_norm, float *learning_rate);
/* sum of x[i]^2 in double (host *out), fixed chunks: deterministic */
grpo_result grpo_gpu_sum_of_squares(grpo_gpu *gpu, const float *x, size_t n, double *out);

/* ---- kernels/sampling.cu: grpo__sample_token for n rows of logits (n, V) at once, row i drawing
   from rngs[i] (device, advanced by one draw as on the CPU): temperature, top-k, top-p, greedy
   from sampling (host; only those four fields are read). Writes tokens (n) and the unfiltered
   log-prob of each (lp_old). The same stream gives the same token as the CPU: the exponentials
   are the CPU's bit for bit and the sums and the cumulative search run in the CPU's order. */
grpo_result grpo_gpu_sample_tokens(grpo_gpu *gpu, int *tokens, float *logprobs, const float *logits, int n, int V,
                                   const grpo_sampling_config *sampling, grpo_rng *rngs);

#ifdef __cplusplus
}
#endif
#endif /* GRPO_GPU_H_INCLUDED */
