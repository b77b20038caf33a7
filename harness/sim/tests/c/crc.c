/* CRC: bitwise and table-driven CRC-32 (IEEE, as zlib), CRC-16/CCITT-FALSE. */
#include <stdint.h>
#include <string.h>

#include "check.h"

static uint32_t table[256];
static uint8_t buffer[4096];

static uint32_t crc32_bitwise(const uint8_t *p, size_t n)
{
    uint32_t crc = 0xFFFFFFFFu;
    while (n--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++) {
            crc = (crc >> 1) ^ (0xEDB88320u & -(crc & 1));
        }
    }
    return ~crc;
}

static void crc32_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) {
            c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
        }
        table[i] = c;
    }
}

static uint32_t crc32_table(const uint8_t *p, size_t n)
{
    uint32_t crc = 0xFFFFFFFFu;
    while (n--) {
        crc = table[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
    }
    return ~crc;
}

static uint16_t crc16_ccitt(const uint8_t *p, size_t n)
{
    uint16_t crc = 0xFFFF;
    while (n--) {
        crc ^= (uint16_t)(*p++ << 8);
        for (int k = 0; k < 8; k++) {
            crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
        }
    }
    return crc;
}

int main(void)
{
    static const char check[] = "123456789";
    crc32_init();
    CHECK_EQ_U32(table[1], 0x77073096u);
    CHECK_EQ_U32(crc32_bitwise((const uint8_t *)check, strlen(check)), 0xCBF43926u);
    CHECK_EQ_U32(crc32_table((const uint8_t *)check, strlen(check)), 0xCBF43926u);
    CHECK_EQ_U32(crc16_ccitt((const uint8_t *)check, strlen(check)), 0x29B1u);

    for (size_t i = 0; i < sizeof buffer; i++) {
        buffer[i] = (uint8_t)(i * 7 + 3);
    }
    /* zlib.crc32(bytes((i * 7 + 3) & 0xFF for i in range(4096))) */
    CHECK_EQ_U32(crc32_table(buffer, sizeof buffer), 0x5E4E1995u);
    CHECK_EQ_U32(crc32_bitwise(buffer, sizeof buffer), 0x5E4E1995u);
    return finish("crc");
}
