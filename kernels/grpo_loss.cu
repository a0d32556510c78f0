/* kernels/grpo_loss.cu - the GRPO loss of one micro-batch and its gradient d loss / d log-prob
   (grpo.h section 10, SPEC.md sections 4 and 5), on device arrays. Every variant of the CPU's
   grpo_loss: loss_type dapo / grpo / bnpo / dr_grpo, clipping with epsilon_low / epsilon_high,
   dual-clip, and the KL estimators k3 / k1 / k2 / importance-weighted k3, per token in double
   as the CPU. One block per sequence; the loss and the statistics are summed per sequence on
   the device and over sequences, in order, on the host (deterministic; equal to the CPU's
   sequential double sum to rounding). */
#include <math.h>
#include "common.cuh"

#define GRPO_GPU__LOSS_THREADS 128
enum { GRPO_GPU__LOSS_PARTIALS = 5 }; /* per sequence: loss, tokens, kl, low_clipped, high_clipped */

/* lengths[i] = sum over t of mask[i][t] */
static __global__ void grpo_gpu__mask_lengths_kernel(double *lengths, const float *mask, int T) {
    __shared__ double shared[32];
    int i = blockIdx.x;
    double sum = 0.0;
    for (int t = threadIdx.x; t < T; t += blockDim.x) sum += mask[(size_t)i * T + t];
    sum = grpo_gpu__block_sum_double(sum, shared);
    if (threadIdx.x == 0) lengths[i] = sum;
}

typedef struct {
    int loss_type, kl_estimator, use_kl, total_sequences, n_micro_batches, max_completion_tokens;
    double epsilon_low, epsilon_high, dual_clip, beta, total_tokens;
} grpo_gpu__loss_parameters;

static __global__ void grpo_gpu__loss_kernel(double *partials, float *dlogprobs, const double *lengths, grpo_gpu__loss_parameters c,
                                             const float *logprobs, const float *old_logprobs, const float *ref_logprobs,
                                             const float *advantages, const float *mask, int N, int T) {
    __shared__ double shared[32];
    int i = blockIdx.x;
    double length = lengths[i];
    double micro_tokens = 0.0;
    if (c.loss_type == GRPO_LOSS_BNPO)
        for (int s = 0; s < N; s++) micro_tokens += lengths[s]; /* every thread, in order: the same value */
    /* the weight of one token of this sequence in the step's loss */
    double weight = 0.0;
    switch (c.loss_type) {
    case GRPO_LOSS_GRPO: weight = length > 0.0 ? 1.0 / (length * c.total_sequences) : 0.0; break;
    case GRPO_LOSS_BNPO: weight = micro_tokens > 0.0 ? 1.0 / (micro_tokens * c.n_micro_batches) : 0.0; break;
    case GRPO_LOSS_DAPO: weight = c.total_tokens > 0.0 ? 1.0 / c.total_tokens : 0.0; break;
    case GRPO_LOSS_DR_GRPO: weight = 1.0 / ((double)c.total_sequences * c.max_completion_tokens); break;
    }
    double A = advantages[i];
    double total = 0.0, tokens = 0.0, kl_sum = 0.0, low = 0.0, high = 0.0;
    for (int t = threadIdx.x; t < T; t += blockDim.x) {
        size_t k = (size_t)i * T + t;
        if (mask[k] == 0.0f) { dlogprobs[k] = 0.0f; continue; }
        double lp = logprobs[k], rho = exp(lp - old_logprobs[k]);
        double clipped = rho < 1.0 - c.epsilon_low ? 1.0 - c.epsilon_low : rho > 1.0 + c.epsilon_high ? 1.0 + c.epsilon_high : rho;
        double unclipped_loss = -rho * A, clipped_loss = -clipped * A;
        /* the max of the two; on a tie the unclipped branch, whose gradient is -rho A */
        double pg = unclipped_loss >= clipped_loss ? unclipped_loss : clipped_loss;
        double dpg = unclipped_loss >= clipped_loss ? -rho * A : 0.0;
        if (c.dual_clip > 0.0 && A < 0.0 && pg > -c.dual_clip * A) { pg = -c.dual_clip * A; dpg = 0.0; }
        double l = pg, dl = dpg, kl = 0.0;
        if (c.use_kl) {
            double d = ref_logprobs[k] - lp, dkl;
            switch (c.kl_estimator) {
            case GRPO_KL_K1: kl = -d; dkl = 1.0; break;
            case GRPO_KL_K2: kl = 0.5 * d * d; dkl = -d; break;
            case GRPO_KL_K3_IMPORTANCE: {
                double k3 = exp(d) - d - 1.0;
                kl = rho * k3;
                dkl = rho * k3 + rho * (1.0 - exp(d));
                break;
            }
            default: kl = exp(d) - d - 1.0; dkl = 1.0 - exp(d); break;
            }
            l += c.beta * kl;
            dl += c.beta * dkl;
        }
        double w = weight * mask[k];
        total += w * l;
        dlogprobs[k] = (float)(w * dl);
        tokens += mask[k];
        kl_sum += mask[k] * kl;
        if (rho < 1.0 - c.epsilon_low && A < 0.0) low += mask[k];
        if (rho > 1.0 + c.epsilon_high && A > 0.0) high += mask[k];
    }
    double values[GRPO_GPU__LOSS_PARTIALS] = {total, tokens, kl_sum, low, high};
    for (int v = 0; v < GRPO_GPU__LOSS_PARTIALS; v++) {
        double sum = grpo_gpu__block_sum_double(values[v], shared);
        if (threadIdx.x == 0) partials[(size_t)i * GRPO_GPU__LOSS_PARTIALS + v] = sum;
    }
}

grpo_result grpo_gpu_loss(grpo_gpu *gpu, const grpo_loss_config *config, const grpo_loss_scale *scale, const float *logprobs,
                          const float *old_logprobs, const float *ref_logprobs, const float *advantages,
                          const float *mask, int N, int T, float *dlogprobs, grpo_loss_stats *stats, float *loss) {
    GRPO_GPU_REQUIRE(gpu, config && scale && loss && N >= 0 && T > 0,
                     "grpo_gpu_loss: config, scale and loss must not be NULL; N = %d, T = %d", N, T);
    grpo_result r = grpo_loss_config_validate(config);
    if (r) return r;
    grpo_loss_config resolved = grpo_loss_config_resolve(config);
    *loss = 0.0f;
    if (N == 0) return GRPO_SUCCESS;
    grpo_gpu__loss_parameters c;
    c.loss_type = (int)resolved.loss_type;
    c.kl_estimator = (int)resolved.kl_estimator;
    c.use_kl = resolved.beta > 0.0f && ref_logprobs != NULL;
    c.total_sequences = scale->total_sequences;
    c.n_micro_batches = scale->n_micro_batches;
    c.max_completion_tokens = scale->max_completion_tokens;
    c.epsilon_low = resolved.epsilon_low;
    c.epsilon_high = resolved.epsilon_high;
    c.dual_clip = resolved.dual_clip;
    c.beta = resolved.beta;
    c.total_tokens = scale->total_tokens;
    void *scratch;
    size_t count = (size_t)N * (GRPO_GPU__LOSS_PARTIALS + 1);
    if ((r = grpo_gpu__scratch(gpu, count * sizeof(double), &scratch))) return r;
    if ((r = grpo_gpu__host_partials(gpu, (size_t)N * GRPO_GPU__LOSS_PARTIALS))) return r;
    double *lengths = (double *)scratch, *partials = lengths + N;
    grpo_gpu__mask_lengths_kernel<<<N, GRPO_GPU__LOSS_THREADS, 0, GRPO_GPU_STREAM(gpu)>>>(lengths, mask, T);
    GRPO_GPU_CHECK_LAUNCH(grpo_gpu__mask_lengths_kernel);
    grpo_gpu__loss_kernel<<<N, GRPO_GPU__LOSS_THREADS, 0, GRPO_GPU_STREAM(gpu)>>>(partials, dlogprobs, lengths, c, logprobs, old_logprobs,
                                                                                 ref_logprobs, advantages, mask, N, T);
    GRPO_GPU_CHECK_LAUNCH(grpo_gpu__loss_kernel);
    if ((r = grpo_gpu_download(gpu, gpu->host_partials, partials, (size_t)N * GRPO_GPU__LOSS_PARTIALS * sizeof(double)))) return r;
    double total = 0.0;
    for (int i = 0; i < N; i++) {
        const double *p = gpu->host_partials + (size_t)i * GRPO_GPU__LOSS_PARTIALS;
        total += p[0];
        if (stats) {
            stats->tokens += p[1];
            stats->kl += p[2];
            stats->low_clipped += p[3];
            stats->high_clipped += p[4];
        }
    }
    *loss = (float)total;
    return GRPO_SUCCESS;
}
