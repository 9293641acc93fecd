// Small C kernels behind Linalg, chosen at run time by CPU features. Integer code only, so every
// variant gives the same bits (the portable one is the reference).
#ifndef DBN_CKERNELS_H
#define DBN_CKERNELS_H
#include <stdint.h>

/// Philox4x32-10 for the eight counters (8 group + j, row, step, epoch), j = 0..7, under the key
/// (key0, key1): out[8 i + j] is word i of the block of counter j. AVX2 when the CPU has it,
/// else portable C; the same bits either way.
void dbn_philox_group(uint32_t group, uint32_t row, uint32_t step, uint32_t epoch,
                      uint32_t key0, uint32_t key1, uint32_t out[32]);

/// The same with the portable code only (for tests of the dispatch).
void dbn_philox_group_portable(uint32_t group, uint32_t row, uint32_t step, uint32_t epoch,
                               uint32_t key0, uint32_t key1, uint32_t out[32]);

/// Whether dbn_philox_group uses the AVX2 code on this CPU.
int dbn_philox_uses_avx2(void);
#endif
