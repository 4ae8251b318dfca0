// oneDNN objects shared by the primitive-level layers (internal; include only from .cc files
// built with JOULEBENCH_HAVE_ONEDNN).
#pragma once

#include <ATen/Parallel.h>

#include <oneapi/dnnl/dnnl.hpp>

namespace joulebench::workloads::torch_impl {

// The process's CPU engine.
const dnnl::engine& CpuEngine();
// The calling thread's stream on it (oneDNN's CPU streams execute synchronously).
dnnl::stream& ThreadStream();

// oneDNN sizes a primitive's work split when it is made, from the calling thread's OpenMP
// thread count; primitives are therefore cached per thread count.
inline int PrimitiveThreads() { return at::in_parallel_region() ? 1 : at::get_num_threads(); }

}  // namespace joulebench::workloads::torch_impl
