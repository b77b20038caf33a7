//! CRC: bitwise and table-driven CRC-32 (IEEE, as zlib) and CRC-16/CCITT-FALSE;
//! the table is built at run time and at compile time, both must agree.
#![no_std]
#![no_main]

use core::hint::black_box;

use cortex_m_rt::entry;
use tinybench_test_programs::{check_eq, finish};

const fn make_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { (c >> 1) ^ 0xEDB8_8320 } else { c >> 1 };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
}

static TABLE: [u32; 256] = make_table();

fn crc32_bitwise(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
        }
    }
    !crc
}

fn crc32_table(table: &[u32; 256], data: &[u8]) -> u32 {
    !data.iter().fold(!0u32, |crc, &b| table[((crc ^ u32::from(b)) & 0xFF) as usize] ^ (crc >> 8))
}

fn crc16_ccitt(data: &[u8]) -> u16 {
    let mut crc = 0xFFFFu16;
    for &b in data {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 { (crc << 1) ^ 0x1021 } else { crc << 1 };
        }
    }
    crc
}

#[entry]
fn main() -> ! {
    let check: &[u8] = black_box(b"123456789");
    let runtime_table = black_box(make_table());
    check_eq!(runtime_table[1], 0x7707_3096);
    check_eq!(runtime_table, TABLE);
    check_eq!(crc32_bitwise(check), 0xCBF4_3926);
    check_eq!(crc32_table(&TABLE, check), 0xCBF4_3926);
    check_eq!(crc16_ccitt(check), 0x29B1);

    let mut buffer = [0u8; 4096];
    for (i, b) in buffer.iter_mut().enumerate() {
        *b = (i * 7 + 3) as u8;
    }
    let buffer = black_box(buffer);
    // zlib.crc32(bytes((i * 7 + 3) & 0xFF for i in range(4096)))
    check_eq!(crc32_table(&runtime_table, &buffer), 0x5E4E_1995);
    check_eq!(crc32_bitwise(&buffer), 0x5E4E_1995);
    finish("crc32")
}
