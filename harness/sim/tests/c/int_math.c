/* Integer arithmetic: 32- and 64-bit multiply and divide (hardware SDIV/UDIV
 * and the __aeabi_*ldivmod helpers), shifts, CLZ, bitfields, a sieve. */
#include <stdint.h>
#include <string.h>

#include "check.h"

static volatile int32_t v_neg7 = -7, v_2 = 2, v_min = INT32_MIN, v_m1 = -1;
static volatile uint32_t v_big = 0xFFFFFFF0u, v_3 = 3;
static volatile uint64_t v_u64 = 0x123456789ABCDEF0ull;
static volatile int64_t v_s64 = -1000000000000ll;

struct fields {
    unsigned a : 3;
    signed b : 5;
    unsigned c : 12;
    unsigned d : 12;
};

static uint32_t gcd(uint32_t a, uint32_t b)
{
    while (b != 0) {
        uint32_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static unsigned collatz_steps(uint32_t n)
{
    unsigned steps = 0;
    while (n != 1) {
        n = (n & 1) ? 3 * n + 1 : n / 2;
        steps++;
    }
    return steps;
}

static unsigned count_primes(unsigned below)
{
    static uint8_t composite[10000];
    memset(composite, 0, sizeof composite);
    unsigned count = 0;
    for (unsigned i = 2; i < below; i++) {
        if (!composite[i]) {
            count++;
            for (unsigned j = i * i; j < below; j += i) {
                composite[j] = 1;
            }
        }
    }
    return count;
}

int main(void)
{
    /* C division truncates toward zero. */
    CHECK(v_neg7 / v_2 == -3);
    CHECK(v_neg7 % v_2 == -1);
    CHECK_EQ_U32(v_big / v_3, 0x55555550u);
    CHECK_EQ_U32(v_big % v_3, 0);
    /* INT32_MIN / -1 overflows; SDIV gives INT32_MIN (no trap, DIV_0_TRP off). */
    int32_t q;
    __asm volatile("sdiv %0, %1, %2" : "=r"(q) : "r"(v_min), "r"(v_m1));
    CHECK(q == INT32_MIN);
    uint32_t zero_div;
    __asm volatile("udiv %0, %1, %2" : "=r"(zero_div) : "r"(v_big), "r"(0u));
    CHECK_EQ_U32(zero_div, 0);

    uint64_t p = (uint64_t)v_big * v_big;
    CHECK(p == 0xFFFFFFE000000100ull);
    int64_t sp = (int64_t)v_neg7 * (int64_t)v_min;
    CHECK(sp == 15032385536ll);
    CHECK(v_u64 / 1000003u == 1311764532170ull);
    CHECK(v_u64 % 1000003u == 193810ull);
    CHECK(v_s64 / 7 == -142857142857ll);
    CHECK(v_s64 % 7 == -1);
    CHECK((v_u64 >> 36) == 0x1234567ull);
    CHECK((v_u64 << 20) == 0x6789ABCDEF000000ull);
    CHECK((v_s64 >> 40) == -1);

    CHECK(__builtin_clz(v_3) == 30);
    CHECK(__builtin_popcount(v_big) == 28);
    CHECK(__builtin_bswap32(0x11223344u + v_3 - 3) == 0x44332211u);
    uint32_t rot = (v_big >> 4) | (v_big << 28);
    CHECK_EQ_U32(rot, 0x0FFFFFFFu);

    struct fields f = {0};
    f.a = 5 + v_3;       /* 8 wraps to 0 in 3 bits */
    f.b = -9 - v_3;      /* -12 */
    f.c = 4095;
    f.d = 0xABC;
    CHECK(f.a == 0);
    CHECK(f.b == -12);
    CHECK(f.c == 4095 && f.d == 0xABC);

    CHECK(gcd(1071 * v_3, 462) == 21);
    CHECK(collatz_steps(27 + v_3 - 3) == 111);
    CHECK(count_primes(10000 - v_3 + 3) == 1229);

    uint64_t fact = 1;
    for (uint32_t i = 2; i <= 20 + v_3 - 3; i++) {
        fact *= i;
    }
    CHECK(fact == 2432902008176640000ull);
    return finish("int_math");
}
