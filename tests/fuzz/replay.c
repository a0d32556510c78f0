/* Replays fuzz inputs without libFuzzer: reads each file named on the command line and hands it
   to LLVMFuzzerTestOneInput, so that crashers can be checked with any compiler and sanitizer:

     gcc -std=c11 -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -I. \
         tests/fuzz/replay.c tests/fuzz/fuzz_rewards.c -o build/fuzz/replay_rewards -lm
     build/fuzz/replay_rewards tests/fuzz/crashers/rewards-*

   A violated invariant traps (the process dies, and tests/run.sh counts a failure); otherwise it
   prints "<file>: ok" per file and, at the end, "<program>: N passed, 0 failed" (N inputs). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv) {
    int replayed = 0;
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) { fprintf(stderr, "replay: cannot open %s\n", argv[i]); return 2; }
        size_t capacity = 4096, size = 0, n;
        uint8_t *data = (uint8_t *)malloc(capacity);
        while (data && (n = fread(data + size, 1, capacity - size, f)) > 0) {
            size += n;
            if (size == capacity) {
                uint8_t *bigger = (uint8_t *)realloc(data, capacity *= 2);
                if (!bigger) { free(data); data = NULL; }
                else data = bigger;
            }
        }
        int failed = ferror(f);
        fclose(f);
        if (!data || failed) { fprintf(stderr, "replay: cannot read %s\n", argv[i]); free(data); return 2; }
        /* an exactly-sized copy, so that ASan sees reads past the end */
        uint8_t *exact = (uint8_t *)malloc(size ? size : 1);
        for (size_t j = 0; j < size; j++) exact[j] = data[j];
        free(data);
        printf("%s: ", argv[i]);
        fflush(stdout);
        LLVMFuzzerTestOneInput(exact, size);
        printf("ok\n");
        free(exact);
        replayed++;
    }
    const char *name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    printf("%s: %d passed, 0 failed\n", name, replayed);
    return 0;
}
