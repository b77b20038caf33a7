/* Self-checking helpers shared by the C test programs: each CHECK prints the
 * failing expression; `finish` prints one PASS/FAIL line and gives the exit
 * status (0 pass, 1 fail) that tinybench passes on as its own. */
#ifndef CHECK_H
#define CHECK_H

#include <stdio.h>

static int check_failures;

#define CHECK(cond)                                                                                  \
    do {                                                                                             \
        if (!(cond)) {                                                                               \
            printf("%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);                          \
            check_failures++;                                                                        \
        }                                                                                            \
    } while (0)

#define CHECK_EQ_U32(got, want)                                                                      \
    do {                                                                                             \
        unsigned long got_ = (unsigned long)(got), want_ = (unsigned long)(want);                    \
        if (got_ != want_) {                                                                         \
            printf("%s:%d: %s = 0x%08lx, want 0x%08lx\n", __FILE__, __LINE__, #got, got_, want_);    \
            check_failures++;                                                                        \
        }                                                                                            \
    } while (0)

static int finish(const char *name)
{
    printf("%s %s\n", check_failures ? "FAIL" : "PASS", name);
    return check_failures ? 1 : 0;
}

/* Keeps the compiler from folding a value computed from constants. */
#define OPAQUE(x) (*(volatile __typeof__(x) *)&(x))

#endif
