// Helpers shared by the fuzz targets: an invariant check that crashes loudly, and deterministic
// piece sizes (xorshift32 seeded from the input) for feeding a parser in fragments.
#pragma once

#include <cstddef>
#include <cstdint>

namespace serval::fuzz {

inline void check(bool ok) {
  if (!ok) __builtin_trap();
}

struct Pieces {
  std::uint32_t state;
  std::uint32_t max_piece;
  std::size_t next() {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return 1 + state % max_piece;
  }
};

}  // namespace serval::fuzz
