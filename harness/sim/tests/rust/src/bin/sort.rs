//! Sorting: `sort_unstable`, `sort_unstable_by` in reverse, an insertion sort,
//! binary search, and sums that prove the result is a permutation.
#![no_std]
#![no_main]

use core::hint::black_box;

use cortex_m_rt::entry;
use tinybench_test_programs::{check, check_eq, finish};

const N: usize = 500;

fn xorshift(state: &mut u32) -> u32 {
    let mut x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    x
}

fn insertion_sort(a: &mut [i32]) {
    for i in 1..a.len() {
        let key = a[i];
        let mut j = i;
        while j > 0 && a[j - 1] > key {
            a[j] = a[j - 1];
            j -= 1;
        }
        a[j] = key;
    }
}

fn sums(a: &[i32]) -> (i64, i64) {
    a.iter().fold((0, 0), |(s, q), &x| (s + i64::from(x), q + i64::from(x) * i64::from(x)))
}

#[entry]
fn main() -> ! {
    let mut state = black_box(2_463_534_242u32);
    let mut data = [0i32; N];
    for x in data.iter_mut() {
        *x = (xorshift(&mut state) as i32) >> 8;
    }
    let mut copy = data;
    let mut reversed = data;
    let before = sums(&data);

    data.sort_unstable();
    insertion_sort(&mut copy);
    reversed.sort_unstable_by(|a, b| b.cmp(a));

    check!(data.windows(2).all(|w| w[0] <= w[1]));
    check!(data == copy);
    check!(data.iter().eq(reversed.iter().rev()));
    check_eq!(sums(&data), before);
    // Pinned from the same generator on the host (and in sort.c).
    check_eq!((data[0], data[N - 1]), (-8_376_768, 8_378_874));
    let probe = data[black_box(123)];
    check_eq!(data.binary_search(&probe).map(|i| data[i]), Ok(probe));
    check!(data.binary_search(&9_000_000).is_err());

    let mut words = black_box(["pear", "apple", "fig", "banana", "cherry"]);
    words.sort_unstable_by_key(|w| (w.len(), *w));
    check_eq!(words, ["fig", "pear", "apple", "banana", "cherry"]);
    finish("sort")
}
