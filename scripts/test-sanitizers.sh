#!/usr/bin/env bash
# Builds joulebench with sanitizers and runs tests under them (docs/reliability.md).
#
# Usage: scripts/test-sanitizers.sh [address|thread]...   (default: both)
#   address  AddressSanitizer + UndefinedBehaviorSanitizer (and LeakSanitizer) in build-asan/:
#            the whole unit suite, the fuzz regression tests included.
#   thread   ThreadSanitizer in build-tsan/, without libtorch (Debian's libtorch and OpenMP are
#            not instrumented, so TSan would report their own synchronisation): the sampler,
#            load generator and store tests, the threaded parts of joulebench.
# A sanitizer report stops the test that caused it, so the run fails.
set -euo pipefail
cd "$(dirname "$0")/.."

modes=("$@")
if [ ${#modes[@]} -eq 0 ]; then modes=(address thread); fi
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
suppressions="$(pwd)/scripts/sanitizer-suppressions"
jobs="$(nproc)"

for mode in "${modes[@]}"; do
  case "$mode" in
    address)
      cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" \
        -DJOULEBENCH_SANITIZE=address,undefined -DJOULEBENCH_BUILD_BENCH=OFF >/dev/null
      cmake --build build-asan -j "$jobs"
      (
        cd build-asan
        asan="halt_on_error=1:detect_leaks=1:detect_stack_use_after_return=1"
        export LSAN_OPTIONS="suppressions=$suppressions/lsan.supp:print_suppressions=0"
        export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
        # The tests that start ranks under mpirun (Open MPI) run apart: Open MPI's own leaks
        # are suppressed by library (lsan.supp), which needs their whole stacks (slow
        # unwinding) and its plugins still mapped when LeakSanitizer looks (no dlclose).
        mpi='^(MpiMeasure|MpiTrain|SlurmRun)[.]'
        status=0
        ASAN_OPTIONS="$asan" ctest --output-on-failure -j "$jobs" -E "$mpi" || status=$?
        ASAN_OPTIONS="$asan:fast_unwind_on_malloc=0" OMPI_MCA_mca_base_component_disable_dlclose=1 \
          ctest --output-on-failure -j "$jobs" -R "$mpi" || status=$?
        exit "$status"
      )
      ;;
    thread)
      cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" \
        -DJOULEBENCH_SANITIZE=thread -DJOULEBENCH_WITH_TORCH=OFF -DJOULEBENCH_BUILD_BENCH=OFF \
        >/dev/null
      cmake --build build-tsan -j "$jobs" --target joulebench_cli joulebench_sampling_tests \
        joulebench_load_tests joulebench_store_tests
      export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$suppressions/tsan.supp"
      for tests in sampling load store; do
        JOULEBENCH_NO_STORE=1 "build-tsan/tests/joulebench_${tests}_tests" --gtest_brief=1
      done
      ;;
    *) echo "test-sanitizers.sh: unknown mode '$mode' (known: address, thread)" >&2; exit 2 ;;
  esac
done
