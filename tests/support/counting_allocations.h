// Replaces the global operator new and delete of the program that includes this header with
// ones that count every allocation, for the tests and benchmarks that show a path allocates
// nothing. Include it in exactly one source file of a program.
//
// Every replaceable form that allocates is replaced (plain, nothrow and array; the aligned forms
// are left to the library, which pairs them itself), so that memory is always freed by the
// allocator that gave it: with only the plain forms replaced, AddressSanitizer's own nothrow new
// (std::stable_sort's temporary buffer) was freed by the replaced delete, an alloc-dealloc
// mismatch.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace joulebench::testing {

inline std::atomic<std::uint64_t> g_allocations{0};

// Allocations by operator new in this program so far.
inline std::uint64_t Allocations() { return g_allocations.load(std::memory_order_relaxed); }

inline void* CountedAllocation(std::size_t size) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}

}  // namespace joulebench::testing

void* operator new(std::size_t size) {
  if (void* p = joulebench::testing::CountedAllocation(size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
  if (void* p = joulebench::testing::CountedAllocation(size)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return joulebench::testing::CountedAllocation(size);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return joulebench::testing::CountedAllocation(size);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
