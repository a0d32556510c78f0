/* Shared by the benchmarks in bench/ (include after grpo.h with GRPO_IMPLEMENTATION; define
   _POSIX_C_SOURCE 200809L before any include, for popen, getrusage and sysconf): clocks,
   the machine's limits measured in the same run (fp32 FMA peak, memory read bandwidth), peak
   memory, the setup line, and reading numbers out of a JSON line. */
#ifndef GRPO_BENCH_COMMON_H
#define GRPO_BENCH_COMMON_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <unistd.h>
#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#include <immintrin.h>
#endif

#ifndef GRPO_BENCH_CFLAGS
#define GRPO_BENCH_CFLAGS "unknown"
#endif

static double bench_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int bench_threads(void) {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

/* Peak resident memory of this process so far, MiB (Linux reports ru_maxrss in KiB). */
static double bench_peak_rss_mib(void) {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return (double)usage.ru_maxrss / 1024.0;
}

/* CPU seconds all processes of the machine have run (/proc/stat: all but idle and iowait);
   with the process's own CPU time it tells whether others were busy during a measurement. */
static double bench_system_busy_seconds(void) {
    FILE *f = fopen("/proc/stat", "r");
    if (!f) return 0.0;
    unsigned long long v[8] = {0};
    int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
    fclose(f);
    if (n != 8) return 0.0;
    return (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / (double)sysconf(_SC_CLK_TCK);
}
static double bench_process_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* The machine's fp32 peak with the current OpenMP threads: every thread runs 12 independent
   chains of vector FMAs on registers (the widest vectors the build has), best of 5. GFLOP/s. */
static double bench_peak_gflops(void) {
    const long iterations = 4000000;
    double best = 1e30, lanes = 1.0;
    float sink = 0.0f;
    for (int r = 0; r < 5; r++) {
        double t0 = bench_now();
        #pragma omp parallel reduction(+:sink)
        {
#if defined(__AVX512F__)
            __m512 a[12], b = _mm512_set1_ps(1.0000001f), c = _mm512_set1_ps(1e-7f);
            for (int i = 0; i < 12; i++) a[i] = _mm512_set1_ps((float)i);
            for (long it = 0; it < iterations; it++)
                for (int i = 0; i < 12; i++) a[i] = _mm512_fmadd_ps(a[i], b, c);
            for (int i = 0; i < 12; i++) sink += _mm512_reduce_add_ps(a[i]);
#elif defined(__AVX2__) && defined(__FMA__)
            __m256 a[12], b = _mm256_set1_ps(1.0000001f), c = _mm256_set1_ps(1e-7f);
            for (int i = 0; i < 12; i++) a[i] = _mm256_set1_ps((float)i);
            for (long it = 0; it < iterations; it++)
                for (int i = 0; i < 12; i++) a[i] = _mm256_fmadd_ps(a[i], b, c);
            float out[8];
            for (int i = 0; i < 12; i++) { _mm256_storeu_ps(out, a[i]); sink += out[0]; }
#else
            float a[12];
            for (int i = 0; i < 12; i++) a[i] = (float)i;
            for (long it = 0; it < iterations / 8; it++)
                for (int i = 0; i < 12; i++) a[i] = a[i] * 1.0000001f + 1e-7f;
            for (int i = 0; i < 12; i++) sink += a[i];
#endif
        }
        double t = bench_now() - t0;
        if (t < best) best = t;
    }
#if defined(__AVX512F__)
    lanes = 16.0;
#elif defined(__AVX2__) && defined(__FMA__)
    lanes = 8.0;
#else
    lanes = 1.0 / 8.0;
#endif
    if (sink == 12345.0f) printf(" "); /* keep the loop */
    return (double)bench_threads() * (double)iterations * 12.0 * lanes * 2.0 / best / 1e9;
}

/* Memory read bandwidth with the current OpenMP threads: sum of a 256 MiB array, best of 4. GB/s. */
static double bench_read_bandwidth(void) {
    size_t n = (size_t)64 << 20;
    float *a = (float *)malloc(n * sizeof(float));
    if (!a) return 0.0;
    #pragma omp parallel for schedule(static)
    for (long i = 0; i < (long)n; i++) a[i] = 1.0f;
    double best = 1e30, total = 0.0;
    for (int r = 0; r < 4; r++) {
        double t0 = bench_now(), sum = 0.0;
        #pragma omp parallel for schedule(static) reduction(+:sum)
        for (long block = 0; block < (long)(n / 4096); block++) {
            float s = 0.0f;
            #pragma omp simd reduction(+:s)
            for (int i = 0; i < 4096; i++) s += a[(size_t)block * 4096 + i];
            sum += s;
        }
        double t = bench_now() - t0;
        total += sum;
        if (t < best) best = t;
    }
    free(a);
    if (total == 1.0) printf(" ");
    return (double)n * sizeof(float) / best / 1e9;
}

/* OpenBLAS picks its kernels when it loads, by CPU model, unless OPENBLAS_CORETYPE names them.
   Held to its AVX2 ("Haswell") kernels on a CPU with full-width AVX-512 such as AMD Zen 5 (this
   project's sandbox sets OPENBLAS_CORETYPE=Haswell in its environment), cblas_sgemm ran at
   240-251 GFLOP/s against 437-480 with its AVX-512 kernels, and PyTorch, which links the same
   library, decoded config B at B x G = 64 1.5-1.6x slower. A benchmark must not race grpo.h against
   a PyTorch held back by a setting. Called first in main: on a CPU with AVX-512 whose OpenBLAS
   runs kernels without it, the program starts itself again with OPENBLAS_CORETYPE=SkylakeX
   (OpenBLAS's AVX-512 kernels), which its PyTorch children inherit; the setup line says what
   was replaced. */
#ifdef GRPO_USE_CBLAS
char *openblas_get_corename(void);
#endif
static void bench_openblas_at_its_best(char **argv) {
#if defined(GRPO_USE_CBLAS) && defined(__x86_64__)
    const char *core = openblas_get_corename(), *forced = getenv("OPENBLAS_CORETYPE");
    int avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                 __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
    int has_avx512_kernels = core && (!strcmp(core, "SkylakeX") || !strcmp(core, "Cooperlake") || !strcmp(core, "SapphireRapids"));
    if (!avx512 || has_avx512_kernels || getenv("GRPO_BENCH_REPLACED_CORETYPE")) return;
    char replaced[128];
    snprintf(replaced, sizeof replaced, "%s%s", forced ? "OPENBLAS_CORETYPE=" : "OpenBLAS's own choice, ", forced ? forced : core ? core : "?");
    setenv("GRPO_BENCH_REPLACED_CORETYPE", replaced, 1);
    setenv("OPENBLAS_CORETYPE", "SkylakeX", 1);
    fflush(stdout);
    execv("/proc/self/exe", argv);
    perror("bench: could not start again with OPENBLAS_CORETYPE=SkylakeX"); /* goes on as it is; the setup line says so */
    if (forced) setenv("OPENBLAS_CORETYPE", forced, 1); else unsetenv("OPENBLAS_CORETYPE");
#else
    (void)argv;
#endif
}

/* The BLAS for the setup line: which kernels OpenBLAS runs, and who chose them. */
static const char *bench_blas_name(void) {
#ifdef GRPO_USE_CBLAS
    static char name[320];
    const char *core = openblas_get_corename(), *replaced = getenv("GRPO_BENCH_REPLACED_CORETYPE"), *forced = getenv("OPENBLAS_CORETYPE");
    if (replaced && forced && !strcmp(forced, "SkylakeX"))
        snprintf(name, sizeof name, "OpenBLAS via cblas_sgemm, %s kernels (OPENBLAS_CORETYPE=SkylakeX set by the bench, for PyTorch too, "
                 "in place of %s, kernels without AVX-512 on this AVX-512 CPU)", core ? core : "?", replaced);
    else
        snprintf(name, sizeof name, "OpenBLAS via cblas_sgemm, %s kernels (%s%s)", core ? core : "?",
                 forced ? "OPENBLAS_CORETYPE=" : "OpenBLAS's own choice", forced ? forced : "");
    return name;
#else
    return "no BLAS: grpo.h's portable matmul";
#endif
}

/* The number after "key": in a JSON line, or NAN if absent. */
static double bench_json_number(const char *line, const char *key) {
    char pattern[128];
    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    const char *at = strstr(line, pattern);
    if (!at) return NAN;
    at += strlen(pattern);
    while (*at == ' ') at++;
    if (!strncmp(at, "NaN", 3) || !strncmp(at, "null", 4)) return NAN;
    return atof(at);
}

/* The string after "key": in a JSON line into out (quotes removed), or "?" if absent. */
static void bench_json_string(const char *line, const char *key, char *out, size_t size) {
    char pattern[128];
    snprintf(pattern, sizeof pattern, "\"%s\": \"", key);
    const char *at = strstr(line, pattern);
    snprintf(out, size, "?");
    if (!at) return;
    at += strlen(pattern);
    size_t n = 0;
    while (at[n] && at[n] != '"' && n + 1 < size) n++;
    memcpy(out, at, n);
    out[n] = '\0';
}
#endif
