// Keeps every SM of GPU 0 busy with dependent fused multiply-adds for a given time, so that
// the board draws close to its power limit: the load bench/gpu/verify.sh measures.
//   burn [--seconds S]    (default 60)
// Prints the achieved FMA rate at the end.
#include <cuda_runtime.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

// Each thread runs `iterations` steps of 4 independent FMA chains (enough to hide latency);
// the result is stored so the compiler cannot drop the work.
__global__ void Burn(float* out, int iterations) {
  float a = threadIdx.x * 1e-3f, b = blockIdx.x * 1e-3f, c = 0.5f, d = 0.25f;
  for (int i = 0; i < iterations; ++i) {
    a = fmaf(a, 0.9999f, 0.0001f);
    b = fmaf(b, 0.9999f, 0.0001f);
    c = fmaf(c, 0.9999f, 0.0001f);
    d = fmaf(d, 0.9999f, 0.0001f);
  }
  out[blockIdx.x * blockDim.x + threadIdx.x] = a + b + c + d;
}

bool Check(cudaError_t rc, const char* what) {
  if (rc == cudaSuccess) return true;
  std::fprintf(stderr, "burn: %s failed: %s\n", what, cudaGetErrorString(rc));
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 60;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else {
      std::fprintf(stderr, "burn: unknown argument '%s'; usage: burn [--seconds S]\n", argv[i]);
      return 2;
    }
  }
  cudaDeviceProp prop{};
  if (!Check(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties")) return 1;
  const int threads = 256;
  const int blocks = prop.multiProcessorCount * 8;
  const int iterations = 1 << 20;  // about 10-100 ms per launch on current GPUs
  float* out = nullptr;
  if (!Check(cudaMalloc(&out, sizeof(float) * blocks * threads), "cudaMalloc")) return 1;
  const auto start = std::chrono::steady_clock::now();
  double elapsed = 0;
  long long launches = 0;
  while (elapsed < seconds) {
    Burn<<<blocks, threads>>>(out, iterations);
    if (!Check(cudaDeviceSynchronize(), "kernel")) return 1;
    ++launches;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  const double fmas = 4.0 * iterations * static_cast<double>(blocks) * threads * launches;
  std::printf("burn: %s, %d SMs, %.1f s, %.2f TFMA/s\n", prop.name, prop.multiProcessorCount,
              elapsed, fmas / elapsed / 1e12);
  cudaFree(out);
  return 0;
}
