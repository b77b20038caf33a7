/* Double precision: on Cortex-M4F software floating point (libgcc's
 * __aeabi_d* helpers, all integer code), pinned bit for bit where IEEE 754
 * defines the result; libm within a tolerance; printf and strtod. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static volatile double v_1 = 1.0, v_2 = 2.0, v_3 = 3.0, v_0_1 = 0.1, v_0_2 = 0.2, v_1e300 = 1e300;
static volatile double v_m2_5 = -2.5, v_0 = 0.0;
static volatile int64_t v_i64 = -9007199254740993ll;

static uint64_t bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static int approx(double got, double want, double tolerance)
{
    return fabs(got - want) <= tolerance * fabs(want);
}

int main(void)
{
    CHECK(bits(v_1 / v_3) == 0x3FD5555555555555ull);
    CHECK(bits(sqrt(v_2)) == 0x3FF6A09E667F3BCDull);
    CHECK(bits(v_0_1 * v_3) == 0x3FD3333333333334ull);
    CHECK(bits(v_0_1 + v_0_2) == 0x3FD3333333333334ull);
    CHECK(isinf(v_1e300 * v_1e300));
    CHECK(isnan(v_0 / v_0));
    CHECK((int)v_m2_5 == -2);
    CHECK((double)v_i64 == -9007199254740992.0); /* round to even */
    CHECK((int64_t)(v_1e300 / 1e290) == 10000000000ll);
    CHECK((float)(v_1 / v_3) == 1.0f / 3.0f);

    CHECK(approx(sin(v_1), 0.8414709848078965, 1e-15));
    CHECK(approx(exp(v_2), 7.38905609893065, 1e-15));
    CHECK(approx(log(v_3), 1.0986122886681098, 1e-15));
    CHECK(approx(pow(v_2, 0.5), 1.4142135623730951, 1e-15));

    /* Leibniz series: pi/4 = 1 - 1/3 + 1/5 - ... */
    double pi = 0.0;
    for (int k = 0; k < 2000; k++) {
        pi += (k & 1 ? -4.0 : 4.0) / (2 * k + 1) * v_1;
    }
    CHECK(fabs(pi - 3.14159265358979) < 1e-3);

    char text[48];
    snprintf(text, sizeof text, "%.6f %e %.17g", v_1 / v_3, v_1e300, v_0_1);
    CHECK(strcmp(text, "0.333333 1.000000e+300 0.10000000000000001") == 0);
    CHECK(strtod("2.718281828459045", NULL) == 2.718281828459045);
    return finish("float64");
}
