// Typed errors thrown at module borders. The CLI turns each into one line on stderr
// (what input, what is wrong, what to do) and a non-zero exit code.
#pragma once

#include <stdexcept>
#include <string>

namespace joulebench {

// Base of every joulebench error. what() is a complete sentence for the user.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A user's input (flag, file, spec) is malformed or out of range. Exit code 2.
class InputError : public Error {
 public:
  using Error::Error;
};

// The environment does not allow what was asked (no such sensor, permission denied,
// library missing, CUDA not compiled in). Exit code 3.
class EnvironmentError : public Error {
 public:
  using Error::Error;
};

// Something failed while running (I/O, database, workload). Exit code 1.
class RuntimeError : public Error {
 public:
  using Error::Error;
};

}  // namespace joulebench
