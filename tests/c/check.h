/*
 * What the C test programs share: the pass and fail counters and CHECK, which
 * prints the failed condition with farmvault's last error message. Each
 * program includes it once, after farmvault.h, and prints the counts last.
 */
#ifndef FARMVAULT_TEST_CHECK_H
#define FARMVAULT_TEST_CHECK_H

#include <stdio.h>

static int passed;
static int failed;

#define CHECK(cond)                                                                       \
    do {                                                                                  \
        if (cond) {                                                                       \
            passed++;                                                                     \
        } else {                                                                          \
            failed++;                                                                     \
            fprintf(stderr, "%s:%d: CHECK(%s) failed; last error: %s\n", __FILE__,        \
                    __LINE__, #cond, fv_last_error_message());                            \
        }                                                                                 \
    } while (0)

#define U8(s) ((const uint8_t *)(s))

#endif
