/* A tiny test harness shared by the test programs.
   A test is a function; it fails if any CHECK in it fails. Each program ends by printing
   "<program>: N passed, M failed" and returns non-zero on any failure, so the exit code is the
   verdict. tests/run.sh adds the programs' counts into the suite's last line. */
#ifndef GRPO_TEST_H
#define GRPO_TEST_H
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test__passed, test__failed, test__current_failures;
static const char *test__current_name = "";

/* Prints the first few failures of a test; the rest are counted. */
#define CHECK(condition, ...)                                                                   \
    do {                                                                                        \
        if (!(condition)) {                                                                     \
            if (test__current_failures++ < 5) {                                                 \
                printf("  FAIL %s (%s:%d): ", test__current_name, __FILE__, __LINE__);          \
                printf(__VA_ARGS__);                                                            \
                printf("\n");                                                                   \
            }                                                                                   \
        }                                                                                       \
    } while (0)

static void test_run(const char *name, void (*test)(void)) {
    test__current_name = name;
    test__current_failures = 0;
    test();
    if (test__current_failures == 0) { test__passed++; printf("  ok   %s\n", name); }
    else { test__failed++; printf("  FAIL %s (%d failed checks)\n", name, test__current_failures); }
    fflush(stdout);
}
#define TEST(function) test_run(#function, function)

static int test_finish(const char *program) {
    printf("%s: %d passed, %d failed\n", program, test__passed, test__failed);
    return test__failed ? 1 : 0;
}

/* Relative error of two arrays in the infinity norm: max|a - b| / max|b|. A per-tensor norm is
   used rather than elementwise ratios, which explode on entries that are near zero. */
static double test_relative_error(const float *a, const float *b, size_t n) {
    double diff = 0.0, scale = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (!(d <= diff)) diff = d; /* also catches NaN */
        if (fabs((double)b[i]) > scale) scale = fabs((double)b[i]);
    }
    return scale > 0.0 ? diff / scale : diff;
}
#endif
