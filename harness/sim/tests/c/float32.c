/* Single precision on the FPU (FPv4-SP): exactly rounded arithmetic pinned
 * bit for bit, conversions, NaN and infinity, libm functions within a
 * tolerance, and printf of floats. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "check.h"

static volatile float v_1 = 1.0f, v_2 = 2.0f, v_3 = 3.0f, v_0_1 = 0.1f, v_0_2 = 0.2f, v_1e30 = 1e30f;
static volatile float v_m2_5 = -2.5f, v_0 = 0.0f;

static uint32_t bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static int approx(float got, float want, float tolerance)
{
    return fabsf(got - want) <= tolerance * fabsf(want);
}

int main(void)
{
    CHECK_EQ_U32(bits(v_1 / v_3), 0x3EAAAAABu);
    CHECK_EQ_U32(bits(sqrtf(v_2)), 0x3FB504F3u);
    CHECK_EQ_U32(bits(v_0_1 * v_3), 0x3E99999Au);
    CHECK_EQ_U32(bits(v_0_1 + v_0_2), 0x3E99999Au);
    CHECK_EQ_U32(bits(fmaf(v_0_1, v_3, -v_0_2)), 0x3DCCCCCDu);
    CHECK(isinf(v_1e30 * v_1e30));
    CHECK(isnan(v_0 / v_0));
    CHECK(!(v_0 / v_0 == v_0 / v_0));
    CHECK(v_1 / -v_0 < 0 && isinf(v_1 / -v_0));

    CHECK((int)v_m2_5 == -2);
    CHECK((unsigned)(v_1e30) == 0xFFFFFFFFu);  /* VCVT saturates */
    CHECK((int)(-v_1e30) == INT32_MIN);
    CHECK((float)(16777217 + (int)v_0) == 16777216.0f); /* round to even */
    CHECK(lrintf(v_m2_5) == -2 && roundf(v_m2_5) == -3.0f);

    CHECK(approx(sinf(v_1), 0.84147098f, 1e-6f));
    CHECK(approx(expf(v_2), 7.3890561f, 1e-6f));
    CHECK(approx(logf(v_3), 1.0986123f, 1e-6f));
    CHECK(approx(atan2f(v_1, v_2), 0.46364761f, 1e-6f));

    /* A small dense layer in float, as a model would run it. */
    float acc = 0.0f;
    for (int i = 0; i < 100; i++) {
        acc += (float)i * v_0_1 * (i & 1 ? v_1 : -v_1);
    }
    CHECK(approx(acc, 5.0f, 1e-5f));

    char text[32];
    snprintf(text, sizeof text, "%.4f %g", (double)(v_1 / v_3), (double)v_m2_5);
    CHECK(strcmp(text, "0.3333 -2.5") == 0);
    return finish("float32");
}
