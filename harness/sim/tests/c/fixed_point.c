/* Fixed point: Q15 and Q31 multiply with rounding and saturation, a Q15 FIR
 * filter, and the ARMv7E-M DSP instructions through ACLE intrinsics (SMLAD,
 * SMLALD, QADD, QADD16, SSAT, USAT, SADD16 + SEL). Expected values come from
 * the same arithmetic in Python. */
#include <arm_acle.h>
#include <stdint.h>

#include "check.h"

#define N 64

static int16_t xs[N], ys[N];
static const int16_t taps[8] = {1000, -2000, 3000, 12000, 12000, 3000, -2000, 1000};
static volatile int32_t v_big = 0x7FFFFFF0, v_100000 = 100000, v_m5 = -5;
static volatile int16_t v_min16 = -32768;

static int16_t sat16(int32_t x)
{
    return x > 32767 ? 32767 : x < -32768 ? -32768 : (int16_t)x;
}

static int16_t q15_mul(int16_t a, int16_t b)
{
    return sat16(((int32_t)a * b + (1 << 14)) >> 15);
}

static int32_t q31_mul(int32_t a, int32_t b)
{
    return (int32_t)(((int64_t)a * b) >> 31);
}

static uint32_t pack(const int16_t *p)
{
    return (uint16_t)p[0] | (uint32_t)(uint16_t)p[1] << 16;
}

int main(void)
{
    for (int i = 0; i < N; i++) {
        xs[i] = (int16_t)(((i * 1237 + 11) % 65536) - 32768);
        ys[i] = (int16_t)(((i * 4099 + 7) % 65536) - 32768);
    }

    CHECK(q15_mul(v_min16, v_min16) == 32767);
    CHECK(q15_mul(16384, 16384) == 8192);
    CHECK(q15_mul(-16384, 16384) == -8192);
    CHECK(q15_mul(12345, -23456) == -8837);
    CHECK_EQ_U32(q31_mul(0x40000000, 0x40000000), 0x20000000);
    CHECK(q31_mul(-1518500250, 1518500250) == -1073741825);
    CHECK(q31_mul(123456789, -987654321) == -56779306);

    int64_t dot = 0;
    for (int i = 0; i < N; i++) {
        dot += (int32_t)xs[i] * ys[i];
    }
    CHECK(dot == 162338656);
    int32_t dot_smlad = 0;
    int64_t dot_smlald = 0;
    for (int i = 0; i < N; i += 2) {
        dot_smlad = __smlad(pack(&xs[i]), pack(&ys[i]), dot_smlad);
        dot_smlald = __smlald(pack(&xs[i]), pack(&ys[i]), dot_smlald);
    }
    CHECK(dot_smlad == 162338656);
    CHECK(dot_smlald == 162338656);

    int32_t fir_sum = 0;
    int16_t first = 0;
    for (int n = 0; n + 8 <= N; n++) {
        int32_t acc = 0;
        for (int k = 0; k < 8; k++) {
            acc += (int32_t)taps[k] * xs[n + k];
        }
        int16_t y = sat16((acc + (1 << 14)) >> 15);
        if (n == 0) {
            first = y;
        }
        fir_sum += y;
    }
    CHECK(first == -24291);
    CHECK(fir_sum == -117615);

    CHECK(__qadd(v_big, 0x100) == INT32_MAX);
    CHECK(__qadd(-v_big, -0x100) == INT32_MIN);
    CHECK(__ssat(v_100000, 16) == 32767);
    CHECK(__ssat(-v_100000, 16) == -32768);
    CHECK(__usat(v_m5, 8) == 0);
    CHECK(__usat(v_100000, 8) == 255);
    CHECK_EQ_U32(__qadd16(0x7FFF0001u + (uint32_t)v_m5 + 5, 0x00018000u), 0x7FFF8001u);
    /* SADD16 sets GE per halfword where the sum is >= 0; SEL picks from the
     * first operand there and from the second elsewhere. */
    uint32_t sum = __sadd16(0x0005FFF0u + (uint32_t)v_m5 + 5, 0x00030001u);
    CHECK_EQ_U32(sum, 0x0008FFF1u);
    CHECK_EQ_U32(__sel(0xAAAABBBBu, 0xCCCCDDDDu), 0xAAAADDDDu);
    return finish("fixed_point");
}
