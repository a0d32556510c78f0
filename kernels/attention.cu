/* kernels/attention.cu - causal multi-head attention with grouped-query attention (grpo.h
   section 6), for training over segments of rows, and for decoding against the generator's KV
   cache (section 8).

   Training: the layout of grpo__attention_forward. Segment s (segments[4s..4s+3] = first row,
   length T, prefix's first row or -1, prefix length P) is one sequence; its row t attends to the
   P prefix rows and to its own rows 0..t. att keeps softmax(q k^T / sqrt(D)) per segment at
   att_offsets[s], (H, T, P + T). Query head h reads key/value head h / (H / KVH).

   One warp per query row (forward, and the backward's dq) or per key row (the backward's dk, dv):
   every sum has one owner and a fixed order, so results are deterministic without atomics. A
   grid of (segments x heads, GRPO_GPU__ROW_SPLIT) blocks of GRPO_GPU__WARPS warps; the warps
   stride over the rows. These are straightforward kernels, written to be checked against the CPU
   first; a tiled (flash-attention style) kernel is the obvious next step for speed. */
#include "common.cuh"

#define GRPO_GPU__WARPS 4
#define GRPO_GPU__ROW_SPLIT 16

/* the key or value row of column j of a segment's attention: the prefix's rows first */
__device__ __forceinline__ const float *grpo_gpu__kv_row(const float *prefix_rows, const float *own_rows, int j, int P, int KD) {
    return j < P ? prefix_rows + (size_t)j * KD : own_rows + (size_t)(j - P) * KD;
}

static __global__ void grpo_gpu__attention_forward_kernel(float *out, float *att, const float *q, const float *k, const float *v,
                                                          const int *segments, const size_t *att_offsets, int H, int KVH, int D,
                                                          float scale) {
    extern __shared__ float shared_rows[]; /* (warps, D): each warp's query row */
    int s = blockIdx.x / H, h = blockIdx.x % H;
    const int *seg = segments + 4 * s;
    int first = seg[0], T = seg[1], prefix = seg[2], P = seg[3], width = P + T;
    int group = H / KVH, QD = H * D, KD = KVH * D;
    size_t kv_head = (size_t)(h / group) * D;
    const float *qs = q + (size_t)first * QD + (size_t)h * D;
    const float *ks = k + (size_t)first * KD + kv_head, *vs = v + (size_t)first * KD + kv_head;
    const float *kp = prefix >= 0 ? k + (size_t)prefix * KD + kv_head : NULL;
    const float *vp = prefix >= 0 ? v + (size_t)prefix * KD + kv_head : NULL;
    float *a = att + att_offsets[s] + (size_t)h * T * width, *o = out + (size_t)first * QD + (size_t)h * D;
    int warp = threadIdx.x / 32, lane = threadIdx.x % 32, warps = blockDim.x / 32;
    float *query = shared_rows + (size_t)warp * D;
    for (int t = blockIdx.y * warps + warp; t < T; t += gridDim.y * warps) {
        for (int d = lane; d < D; d += 32) query[d] = qs[(size_t)t * QD + d];
        __syncwarp();
        float *row = a + (size_t)t * width;
        int count = P + t + 1;
        float maxval = -INFINITY;
        for (int j = lane; j < count; j += 32) {
            const float *key = grpo_gpu__kv_row(kp, ks, j, P, KD);
            float dot = 0.0f;
            for (int d = 0; d < D; d++) dot += query[d] * key[d];
            row[j] = scale * dot;
            maxval = fmaxf(maxval, row[j]);
        }
        maxval = grpo_gpu__warp_max(maxval);
        float sum = 0.0f;
        for (int j = lane; j < count; j += 32) {
            float e = grpo_gpu__expf(row[j] - maxval);
            row[j] = e;
            sum += e;
        }
        sum = grpo_gpu__warp_sum(sum);
        float inv = 1.0f / sum;
        for (int j = lane; j < count; j += 32) row[j] *= inv;
        for (int j = count + lane; j < width; j += 32) row[j] = 0.0f;
        __syncwarp();
        for (int d = lane; d < D; d += 32) {
            float acc = 0.0f;
            for (int j = 0; j < count; j++) acc += row[j] * grpo_gpu__kv_row(vp, vs, j, P, KD)[d];
            o[(size_t)t * QD + d] = acc;
        }
        __syncwarp();
    }
}

/* Backward, per query row t of (segment, head): dP_j = dout_t . v_j; dS_j = P_j (dP_j -
   sum_i P_i dP_i) * scale, kept in dscores (att's layout); dq_t += sum_j dS_j k_j. */
static __global__ void grpo_gpu__attention_backward_query_kernel(float *dq, float *dscores, const float *dout, const float *att,
                                                                 const float *k, const float *v, const int *segments,
                                                                 const size_t *att_offsets, int H, int KVH, int D, float scale) {
    extern __shared__ float shared_rows[];
    int s = blockIdx.x / H, h = blockIdx.x % H;
    const int *seg = segments + 4 * s;
    int first = seg[0], T = seg[1], prefix = seg[2], P = seg[3], width = P + T;
    int group = H / KVH, QD = H * D, KD = KVH * D;
    size_t kv_head = (size_t)(h / group) * D;
    const float *ks = k + (size_t)first * KD + kv_head, *vs = v + (size_t)first * KD + kv_head;
    const float *kp = prefix >= 0 ? k + (size_t)prefix * KD + kv_head : NULL;
    const float *vp = prefix >= 0 ? v + (size_t)prefix * KD + kv_head : NULL;
    size_t offset = att_offsets[s] + (size_t)h * T * width;
    const float *dos = dout + (size_t)first * QD + (size_t)h * D;
    float *dqs = dq + (size_t)first * QD + (size_t)h * D;
    int warp = threadIdx.x / 32, lane = threadIdx.x % 32, warps = blockDim.x / 32;
    float *grad = shared_rows + (size_t)warp * D;
    for (int t = blockIdx.y * warps + warp; t < T; t += gridDim.y * warps) {
        for (int d = lane; d < D; d += 32) grad[d] = dos[(size_t)t * QD + d];
        __syncwarp();
        const float *p = att + offset + (size_t)t * width;
        float *ds = dscores + offset + (size_t)t * width;
        int count = P + t + 1;
        float weighted = 0.0f;
        for (int j = lane; j < count; j += 32) {
            const float *value = grpo_gpu__kv_row(vp, vs, j, P, KD);
            float dp = 0.0f;
            for (int d = 0; d < D; d++) dp += grad[d] * value[d];
            ds[j] = dp;
            weighted += p[j] * dp;
        }
        weighted = grpo_gpu__warp_sum(weighted);
        for (int j = lane; j < count; j += 32) ds[j] = p[j] * (ds[j] - weighted) * scale;
        __syncwarp();
        for (int d = lane; d < D; d += 32) {
            float acc = 0.0f;
            for (int j = 0; j < count; j++) acc += ds[j] * grpo_gpu__kv_row(kp, ks, j, P, KD)[d];
            dqs[(size_t)t * QD + d] += acc;
        }
        __syncwarp();
    }
}

/* Backward, per key row j of a family's segment and kv head: dk_j += sum dS[t][j] q_t and
   dv_j += sum P[t][j] dout_t over the query heads of the group and every query row that reads
   key j -- the segment's own rows t >= j and, for a shared prefix, every row of the segments
   that read it (a family: the prefix and its readers, grpo_activations.families). */
static __global__ void grpo_gpu__attention_backward_key_kernel(float *dk, float *dv, const float *dscores, const float *dout,
                                                               const float *att, const float *q, const int *segments,
                                                               const size_t *att_offsets, const int *families, int H, int KVH, int D) {
    int family = blockIdx.x / KVH, kh = blockIdx.x % KVH;
    int group = H / KVH, QD = H * D, KD = KVH * D;
    int warp = threadIdx.x / 32, lane = threadIdx.x % 32, warps = blockDim.x / 32;
    int segment_begin = families[family], segment_end = families[family + 1];
    for (int si = segment_begin; si < segment_end; si++) {
        const int *seg = segments + 4 * si;
        int first = seg[0], T = seg[1], P = seg[3], width = P + T;
        for (int j = blockIdx.y * warps + warp; j < T; j += gridDim.y * warps) {
            for (int d0 = 0; d0 < D; d0 += 32) {
                int d = d0 + lane;
                if (d >= D) break;
                float acc_k = 0.0f, acc_v = 0.0f;
                for (int h = kh * group; h < (kh + 1) * group; h++) {
                    /* own query rows t >= j, column P + j */
                    size_t offset = att_offsets[si] + (size_t)h * T * width + P + j;
                    const float *qh = q + (size_t)first * QD + (size_t)h * D + d, *doh = dout + (size_t)first * QD + (size_t)h * D + d;
                    for (int t = j; t < T; t++) {
                        size_t at = offset + (size_t)t * width;
                        acc_k += dscores[at] * qh[(size_t)t * QD];
                        acc_v += att[at] * doh[(size_t)t * QD];
                    }
                    /* rows of the segments that read this one as their prefix, column j */
                    for (int r = segment_begin; r < segment_end; r++) {
                        const int *reader = segments + 4 * r;
                        if (r == si || reader[2] != first) continue;
                        int reader_first = reader[0], reader_T = reader[1], reader_width = reader[3] + reader_T;
                        size_t reader_offset = att_offsets[r] + (size_t)h * reader_T * reader_width + j;
                        const float *rq = q + (size_t)reader_first * QD + (size_t)h * D + d;
                        const float *rdo = dout + (size_t)reader_first * QD + (size_t)h * D + d;
                        for (int t = 0; t < reader_T; t++) {
                            size_t at = reader_offset + (size_t)t * reader_width;
                            acc_k += dscores[at] * rq[(size_t)t * QD];
                            acc_v += att[at] * rdo[(size_t)t * QD];
                        }
                    }
                }
                size_t index = (size_t)(first + j) * KD + (size_t)kh * D + d;
                dk[index] += acc_k;
                dv[index] += acc_v;
            }
        }
    }
}

static grpo_result grpo_gpu__attention_check(grpo_gpu *gpu, const char *who, int n_segments, int H, int KVH, int D) {
    GRPO_GPU_REQUIRE(gpu, n_segments >= 0 && H > 0 && KVH > 0 && H % KVH == 0 && D > 0 && D <= 1024,
                     "%s: n_segments = %d, H = %d, KVH = %d, D = %d: expected KVH to divide H and D in 1..1024", who, n_segments, H, KVH, D);
    return GRPO_SUCCESS;
}

grpo_result grpo_gpu_attention_forward(grpo_gpu *gpu, float *out, float *att, const float *q, const float *k, const float *v,
                                       const int *segments, const size_t *att_offsets, int n_segments, int H, int KVH, int D) {
    grpo_result r = grpo_gpu__attention_check(gpu, "grpo_gpu_attention_forward", n_segments, H, KVH, D);
    if (r || n_segments == 0) return r;
    dim3 grid((unsigned)(n_segments * H), GRPO_GPU__ROW_SPLIT);
    size_t shared = (size_t)GRPO_GPU__WARPS * D * sizeof(float);
    grpo_gpu__attention_forward_kernel<<<grid, 32 * GRPO_GPU__WARPS, shared, GRPO_GPU_STREAM(gpu)>>>(
        out, att, q, k, v, segments, att_offsets, H, KVH, D, 1.0f / sqrtf((float)D));
    GRPO_GPU_CHECK_LAUNCH(grpo_gpu__attention_forward_kernel);
    return GRPO_SUCCESS;
}

grpo_result grpo_gpu_attention_backward(grpo_gpu *gpu, float *dq, float *dk, float *dv, float *scratch, const float *dout,
                                        const float *att, const float *q, const float *k, const float *v,
                                        const int *segments, const size_t *att_offsets, int n_segments,
                                        const int *families, int n_families, int H, int KVH, int D) {
    grpo_result r = grpo_gpu__attention_check(gpu, "grpo_gpu_attention_backward", n_segments, H, KVH, D);
    if (r || n_segments == 0 || n_families == 0) return r;
    size_t shared = (size_t)GRPO_GPU__WARPS * D * sizeof(float);
    dim3 query_grid((unsigned)(n_segments * H), GRPO_GPU__ROW_SPLIT), key_grid((unsigned)(n_families * KVH), GRPO_GPU__ROW_SPLIT);
    grpo_gpu__attention_backward_query_kernel<<<query_grid, 32 * GRPO_GPU__WARPS, shared, GRPO_GPU_STREAM(gpu)>>>(
        dq, scratch, dout, att, k, v, segments, att_offsets, H, KVH, D, 1.0f / sqrtf((float)D));
    GRPO_GPU_CHECK_LAUNCH(grpo_gpu__attention_backward_query_kernel);
    grpo_gpu__attention_backward_key_kernel<<<key_grid, 32 * GRPO_GPU__WARPS, 0, GRPO_GPU_STREAM(gpu)>>>(
        dk, dv, scratch, dout, att, q, segments, att_offsets, families, H, KVH, D);
    GRPO_GPU_CHECK_LAUNCH(grpo_gpu__attention_backward_key_kernel);
    return GRPO_SUCCESS;
}

/* ---- decoding against the KV cache (grpo_generator's layout: keys in (D, 16) blocks) */
#define GRPO_GPU__KEY_BLOCK 16

__device__ __forceinline__ float grpo_gpu__cached_key(const float *blocks, int j, int d, int D) {
    return blocks[((size_t)(j / GRPO_GPU__KEY_BLOCK) * D + d) * GRPO_GPU__KEY_BLOCK + j % GRPO_GPU__KEY_BLOCK];
}

/* one warp per (active row i, query head h) */
static __global__ void grpo_gpu__decode_attention_kernel(float *att_out, float *scores, const float *q, const float *prompt_k,
                                                         const float *prompt_v, const int *prompt_lengths, const float *cache_k,
                                                         const float *cache_v, const int *row_sequence, const int *row_step,
                                                         int G, int H, int KVH, int D, int context, int max_new, float scale) {
    extern __shared__ float query[]; /* (D) */
    int i = blockIdx.x / H, h = blockIdx.x % H, lane = threadIdx.x;
    int QD = H * D, sequence = row_sequence[i], b = sequence / G, kvh = h / (H / KVH);
    size_t context_blocks = (size_t)(context + GRPO_GPU__KEY_BLOCK - 1) / GRPO_GPU__KEY_BLOCK;
    size_t new_blocks = (size_t)(max_new + GRPO_GPU__KEY_BLOCK - 1) / GRPO_GPU__KEY_BLOCK;
    size_t own = (size_t)sequence * KVH + kvh, prompt = (size_t)b * KVH + kvh;
    const float *pk = prompt_k + prompt * context_blocks * D * GRPO_GPU__KEY_BLOCK, *pv = prompt_v + prompt * context * D;
    const float *ok = cache_k + own * new_blocks * D * GRPO_GPU__KEY_BLOCK, *ov = cache_v + own * max_new * D;
    int n_prompt = prompt_lengths[b], n = n_prompt + row_step[i] + 1;
    float *score = scores + ((size_t)i * H + h) * (context + 2 * GRPO_GPU__KEY_BLOCK);
    for (int d = lane; d < D; d += 32) query[d] = q[(size_t)i * QD + (size_t)h * D + d] * scale;
    __syncwarp();
    float maxval = -INFINITY;
    for (int j = lane; j < n; j += 32) {
        float dot = 0.0f;
        if (j < n_prompt) for (int d = 0; d < D; d++) dot += query[d] * grpo_gpu__cached_key(pk, j, d, D);
        else for (int d = 0; d < D; d++) dot += query[d] * grpo_gpu__cached_key(ok, j - n_prompt, d, D);
        score[j] = dot;
        maxval = fmaxf(maxval, dot);
    }
    maxval = grpo_gpu__warp_max(maxval);
    float sum = 0.0f;
    for (int j = lane; j < n; j += 32) {
        float e = grpo_gpu__expf(score[j] - maxval);
        score[j] = e;
        sum += e;
    }
    sum = grpo_gpu__warp_sum(sum);
    float inv = 1.0f / sum;
    __syncwarp();
    for (int d = lane; d < D; d += 32) {
        float acc = 0.0f;
        for (int j = 0; j < n_prompt; j++) acc += score[j] * inv * pv[(size_t)j * D + d];
        for (int j = n_prompt; j < n; j++) acc += score[j] * inv * ov[(size_t)(j - n_prompt) * D + d];
        att_out[(size_t)i * QD + (size_t)h * D + d] = acc;
    }
}

static __global__ void grpo_gpu__decode_store_kv_kernel(float *cache_k, float *cache_v, const float *k, const float *v,
                                                        const int *row_sequence, const int *row_step, int n, int KVH, int D,
                                                        int max_new) {
    size_t index = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (index >= (size_t)n * KVH * D) return;
    int d = (int)(index % D), kvh = (int)(index / D % KVH), i = (int)(index / ((size_t)D * KVH));
    int step = row_step[i];
    size_t new_blocks = (size_t)(max_new + GRPO_GPU__KEY_BLOCK - 1) / GRPO_GPU__KEY_BLOCK;
    size_t head = (size_t)row_sequence[i] * KVH + kvh;
    cache_k[head * new_blocks * D * GRPO_GPU__KEY_BLOCK + ((size_t)(step / GRPO_GPU__KEY_BLOCK) * D + d) * GRPO_GPU__KEY_BLOCK +
            step % GRPO_GPU__KEY_BLOCK] = k[index];
    cache_v[head * max_new * D + (size_t)step * D + d] = v[index];
}

/* thread per (prompt b, kv head, position t, d): the prefill's row first_rows[b] + t into the
   prompt cache (grpo__decode_prefill's loop, for one layer) */
static __global__ void grpo_gpu__decode_store_prompt_kernel(float *prompt_k, float *prompt_v, const float *k, const float *v,
                                                            const int *first_rows, const int *prompt_lengths, int n_prompts,
                                                            int KVH, int D, int context) {
    size_t index = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (index >= (size_t)n_prompts * KVH * context * D) return;
    int d = (int)(index % D), t = (int)(index / D % context), kvh = (int)(index / ((size_t)D * context) % KVH);
    int b = (int)(index / ((size_t)D * context * KVH));
    if (t >= prompt_lengths[b]) return;
    size_t KD = (size_t)KVH * D, head = (size_t)b * KVH + kvh;
    size_t context_blocks = (size_t)(context + GRPO_GPU__KEY_BLOCK - 1) / GRPO_GPU__KEY_BLOCK;
    size_t row = (size_t)first_rows[b] + t;
    prompt_k[head * context_blocks * D * GRPO_GPU__KEY_BLOCK + ((size_t)(t / GRPO_GPU__KEY_BLOCK) * D + d) * GRPO_GPU__KEY_BLOCK +
             t % GRPO_GPU__KEY_BLOCK] = k[row * KD + (size_t)kvh * D + d];
    prompt_v[head * context * D + (size_t)t * D + d] = v[row * KD + (size_t)kvh * D + d];
}

grpo_result grpo_gpu_decode_store_prompt(grpo_gpu *gpu, float *prompt_k, float *prompt_v, const float *k, const float *v,
                                         const int *first_rows, const int *prompt_lengths, int n_prompts, int KVH, int D,
                                         int context_length) {
    GRPO_GPU_REQUIRE(gpu, n_prompts >= 0 && KVH > 0 && D > 0 && context_length > 0,
                     "grpo_gpu_decode_store_prompt: n_prompts = %d, KVH = %d, D = %d, context_length = %d", n_prompts, KVH, D, context_length);
    size_t count = (size_t)n_prompts * KVH * context_length * D;
    if (count == 0) return GRPO_SUCCESS;
    grpo_gpu__decode_store_prompt_kernel<<<grpo_gpu__blocks(count, 256), 256, 0, GRPO_GPU_STREAM(gpu)>>>(
        prompt_k, prompt_v, k, v, first_rows, prompt_lengths, n_prompts, KVH, D, context_length);
    GRPO_GPU_CHECK_LAUNCH(grpo_gpu__decode_store_prompt_kernel);
    return GRPO_SUCCESS;
}

grpo_result grpo_gpu_decode_attention(grpo_gpu *gpu, float *att_out, float *scores, const float *q,
                                      const float *prompt_k, const float *prompt_v, const int *prompt_lengths,
                                      const float *cache_k, const float *cache_v, const int *row_sequence, const int *row_step,
                                      int n, int G, int H, int KVH, int D, int context_length, int max_new_tokens) {
    GRPO_GPU_REQUIRE(gpu, n >= 0 && G > 0 && H > 0 && KVH > 0 && H % KVH == 0 && D > 0 && D <= 1024 && context_length > 0 && max_new_tokens > 0,
                     "grpo_gpu_decode_attention: n = %d, G = %d, H = %d, KVH = %d, D = %d, context_length = %d, max_new_tokens = %d",
                     n, G, H, KVH, D, context_length, max_new_tokens);
    if (n == 0) return GRPO_SUCCESS;
    grpo_gpu__decode_attention_kernel<<<(unsigned)(n * H), 32, (size_t)D * sizeof(float), GRPO_GPU_STREAM(gpu)>>>(
        att_out, scores, q, prompt_k, prompt_v, prompt_lengths, cache_k, cache_v, row_sequence, row_step, G, H, KVH, D,
        context_length, max_new_tokens, 1.0f / sqrtf((float)D));
    GRPO_GPU_CHECK_LAUNCH(grpo_gpu__decode_attention_kernel);
    return GRPO_SUCCESS;
}

grpo_result grpo_gpu_decode_store_kv(grpo_gpu *gpu, float *cache_k, float *cache_v, const float *k, const float *v,
                                     const int *row_sequence, const int *row_step, int n, int KVH, int D, int max_new_tokens) {
    GRPO_GPU_REQUIRE(gpu, n >= 0 && KVH > 0 && D > 0 && max_new_tokens > 0,
                     "grpo_gpu_decode_store_kv: n = %d, KVH = %d, D = %d, max_new_tokens = %d", n, KVH, D, max_new_tokens);
    size_t count = (size_t)n * KVH * D;
    if (count == 0) return GRPO_SUCCESS;
    grpo_gpu__decode_store_kv_kernel<<<grpo_gpu__blocks(count, 256), 256, 0, GRPO_GPU_STREAM(gpu)>>>(
        cache_k, cache_v, k, v, row_sequence, row_step, n, KVH, D, max_new_tokens);
    GRPO_GPU_CHECK_LAUNCH(grpo_gpu__decode_store_kv_kernel);
    return GRPO_SUCCESS;
}
