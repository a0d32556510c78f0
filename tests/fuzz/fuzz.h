/* Shared by the fuzz targets: REQUIRE(condition) stops the run with a trap, which libFuzzer
   reports as a crash and keeps the input, when an invariant fails. Include after grpo.h. */
#ifndef GRPO_FUZZ_H
#define GRPO_FUZZ_H
#include <stdio.h>

#define REQUIRE(condition)                                                                  \
    do {                                                                                    \
        if (!(condition)) {                                                                 \
            fprintf(stderr, "invariant failed: %s (%s:%d); last error: %s\n", #condition,  \
                    __FILE__, __LINE__, grpo_last_error());                                 \
            __builtin_trap();                                                               \
        }                                                                                   \
    } while (0)

#endif
