/* The FP environment through FPSCR (newlib's fesetround is a stub on Arm, so
 * the program writes FPSCR itself): rounding modes, cumulative exception
 * flags, flush-to-zero and default NaN, checked bit for bit. */
#include <stdint.h>
#include <string.h>

#include "check.h"

#define RMODE(m) ((uint32_t)(m) << 22)
#define RN 0u
#define RP 1u
#define RM 2u
#define RZ 3u
#define FZ (1u << 24)
#define DN (1u << 25)
#define IOC 0x01u
#define DZC 0x02u
#define OFC 0x04u
#define UFC 0x08u
#define IXC 0x10u
#define IDC 0x80u

static volatile float v_1 = 1.0f, v_3 = 3.0f, v_max = 3.4028235e38f, v_0 = 0.0f, v_half = 0.5f;
static volatile float v_min_normal = 1.17549435e-38f, v_2_5 = 2.5f;
static volatile uint32_t v_snan = 0x7f800001u, v_denormal = 1u;

static uint32_t bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* Sets FPSCR (controls, flags cleared), stores `expr` and returns the flags it raised. */
#define UNDER(fpscr, out, expr)                                                                      \
    ({                                                                                               \
        __builtin_arm_set_fpscr(fpscr);                                                              \
        volatile float r_ = (expr);                                                                  \
        (out) = bits(r_);                                                                            \
        uint32_t f_ = __builtin_arm_get_fpscr() & 0x9fu;                                             \
        __builtin_arm_set_fpscr(0);                                                                  \
        f_;                                                                                          \
    })

int main(void)
{
    uint32_t r, flags;

    flags = UNDER(RMODE(RN), r, v_1 / v_3);
    CHECK_EQ_U32(r, 0x3eaaaaabu);
    CHECK_EQ_U32(flags, IXC);
    flags = UNDER(RMODE(RZ), r, v_1 / v_3);
    CHECK_EQ_U32(r, 0x3eaaaaaau);
    flags = UNDER(RMODE(RM), r, -v_1 / v_3);
    CHECK_EQ_U32(r, 0xbeaaaaabu);
    flags = UNDER(RMODE(RP), r, -v_1 / v_3);
    CHECK_EQ_U32(r, 0xbeaaaaaau);

    flags = UNDER(RMODE(RN), r, v_max * v_3);
    CHECK_EQ_U32(r, 0x7f800000u);
    CHECK_EQ_U32(flags, OFC | IXC);
    flags = UNDER(RMODE(RZ), r, v_max * v_3);
    CHECK_EQ_U32(r, 0x7f7fffffu);
    CHECK_EQ_U32(flags, OFC | IXC);

    flags = UNDER(RMODE(RN), r, v_1 / v_0);
    CHECK_EQ_U32(flags, DZC);
    flags = UNDER(RMODE(RN), r, v_0 / v_0);
    CHECK_EQ_U32(r, 0x7fc00000u);
    CHECK_EQ_U32(flags, IOC);
    flags = UNDER(RMODE(RN), r, from_bits(v_snan) + v_1);
    CHECK_EQ_U32(r, 0x7fc00001u);
    CHECK_EQ_U32(flags, IOC);
    flags = UNDER(RMODE(RN) | DN, r, from_bits(v_snan) + v_1);
    CHECK_EQ_U32(r, 0x7fc00000u);

    flags = UNDER(RMODE(RN), r, v_min_normal * v_1 / v_3);
    CHECK_EQ_U32(flags, UFC | IXC);
    flags = UNDER(RMODE(RN) | FZ, r, v_min_normal * v_half);
    CHECK_EQ_U32(r, 0);
    CHECK_EQ_U32(flags, UFC);
    flags = UNDER(RMODE(RN) | FZ, r, from_bits(v_denormal) + v_1);
    CHECK_EQ_U32(r, 0x3f800000u);
    CHECK_EQ_U32(flags, IDC);

    /* (int) truncates whatever the mode; the FPU's VCVTR would use it. */
    __builtin_arm_set_fpscr(RMODE(RP));
    volatile int i = (int)v_2_5;
    __builtin_arm_set_fpscr(0);
    CHECK(i == 2);

    return finish("fp_env");
}
