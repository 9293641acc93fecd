// Philox4x32-10 (Salmon et al. 2011) for eight counters at once; see ckernels.h.
#include "ckernels.h"

#define M0 0xD2511F53u
#define M1 0xCD9E8D57u
#define W0 0x9E3779B9u
#define W1 0xBB67AE85u

void dbn_philox_group_portable(uint32_t group, uint32_t row, uint32_t step, uint32_t epoch,
                               uint32_t key0, uint32_t key1, uint32_t out[32]) {
    for (int j = 0; j < 8; j++) {
        uint32_t x0 = group * 8u + (uint32_t)j, x1 = row, x2 = step, x3 = epoch, k0 = key0, k1 = key1;
        for (int round = 0; round < 10; round++) {
            if (round > 0) { k0 += W0; k1 += W1; }
            uint64_t p0 = (uint64_t)M0 * x0, p1 = (uint64_t)M1 * x2;
            uint32_t y0 = (uint32_t)(p1 >> 32) ^ x1 ^ k0, y1 = (uint32_t)p1;
            uint32_t y2 = (uint32_t)(p0 >> 32) ^ x3 ^ k1, y3 = (uint32_t)p0;
            x0 = y0; x1 = y1; x2 = y2; x3 = y3;
        }
        out[j] = x0; out[8 + j] = x1; out[16 + j] = x2; out[24 + j] = x3;
    }
}

#if defined(__x86_64__) && defined(__clang__)
#include <immintrin.h>

// (hi, lo) of the 32 x 32 -> 64-bit products of the eight lanes of x with m.
__attribute__((target("avx2"))) static inline void mulhilo(__m256i x, __m256i m, __m256i *hi, __m256i *lo) {
    __m256i even = _mm256_mul_epu32(x, m);                          // lanes 0, 2, 4, 6
    __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(x, 32), m);    // lanes 1, 3, 5, 7
    *lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
    *hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
}

__attribute__((target("avx2"))) static void philox_group_avx2(uint32_t group, uint32_t row, uint32_t step,
                                                             uint32_t epoch, uint32_t key0, uint32_t key1,
                                                             uint32_t out[32]) {
    __m256i x0 = _mm256_add_epi32(_mm256_set1_epi32((int)(group * 8u)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    __m256i x1 = _mm256_set1_epi32((int)row), x2 = _mm256_set1_epi32((int)step), x3 = _mm256_set1_epi32((int)epoch);
    const __m256i m0 = _mm256_set1_epi32((int)M0), m1 = _mm256_set1_epi32((int)M1);
    uint32_t k0 = key0, k1 = key1;
    for (int round = 0; round < 10; round++) {
        if (round > 0) { k0 += W0; k1 += W1; }
        __m256i hi0, lo0, hi1, lo1;
        mulhilo(x0, m0, &hi0, &lo0);
        mulhilo(x2, m1, &hi1, &lo1);
        __m256i y0 = _mm256_xor_si256(_mm256_xor_si256(hi1, x1), _mm256_set1_epi32((int)k0));
        __m256i y2 = _mm256_xor_si256(_mm256_xor_si256(hi0, x3), _mm256_set1_epi32((int)k1));
        x0 = y0; x1 = lo1; x2 = y2; x3 = lo0;
    }
    _mm256_storeu_si256((__m256i *)(out), x0);
    _mm256_storeu_si256((__m256i *)(out + 8), x1);
    _mm256_storeu_si256((__m256i *)(out + 16), x2);
    _mm256_storeu_si256((__m256i *)(out + 24), x3);
}

int dbn_philox_uses_avx2(void) {
    static int cached = -1;  // a benign race: every thread computes the same value
    if (cached < 0) { __builtin_cpu_init(); cached = __builtin_cpu_supports("avx2") ? 1 : 0; }
    return cached;
}

void dbn_philox_group(uint32_t group, uint32_t row, uint32_t step, uint32_t epoch,
                      uint32_t key0, uint32_t key1, uint32_t out[32]) {
    if (dbn_philox_uses_avx2()) {
        philox_group_avx2(group, row, step, epoch, key0, key1, out);
    } else {
        dbn_philox_group_portable(group, row, step, epoch, key0, key1, out);
    }
}
#else
int dbn_philox_uses_avx2(void) { return 0; }

void dbn_philox_group(uint32_t group, uint32_t row, uint32_t step, uint32_t epoch,
                      uint32_t key0, uint32_t key1, uint32_t out[32]) {
    dbn_philox_group_portable(group, row, step, epoch, key0, key1, out);
}
#endif
