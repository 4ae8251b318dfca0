#include <Python.h>

#include <exception>

#include "bindings.h"
#include "joulebench/error.h"

namespace joulebench::python {
namespace {

// Created once at import and kept for the life of the interpreter.
PyObject* g_error = nullptr;
PyObject* g_input_error = nullptr;
PyObject* g_environment_error = nullptr;
PyObject* g_runtime_error = nullptr;

// A class joulebench.<name> deriving from `bases` (a class or a tuple of classes).
PyObject* NewError(py::module_& m, const char* name, py::handle bases, const char* doc) {
  const std::string qualified = std::string("joulebench.") + name;
  PyObject* cls = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases.ptr(), nullptr);
  if (cls == nullptr) throw py::error_already_set();
  m.attr(name) = py::handle(cls);
  return cls;
}

}  // namespace

void BindErrors(py::module_& m) {
  g_error = NewError(m, "Error", PyExc_Exception,
                     "Base of every joulebench error; str() is one line for the user.");
  g_input_error =
      NewError(m, "InputError", py::make_tuple(py::handle(g_error), py::handle(PyExc_ValueError)),
               "An input (argument, file, spec) is malformed or out of range.");
  g_environment_error = NewError(
      m, "EnvironmentError", py::make_tuple(py::handle(g_error), py::handle(PyExc_OSError)),
      "The environment does not allow what was asked (sensor, permission, library, database).");
  g_runtime_error = NewError(m, "RuntimeError",
                             py::make_tuple(py::handle(g_error), py::handle(PyExc_RuntimeError)),
                             "Something failed while running (I/O, database, workload).");
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const InputError& e) {
      PyErr_SetString(g_input_error, e.what());
    } catch (const EnvironmentError& e) {
      PyErr_SetString(g_environment_error, e.what());
    } catch (const RuntimeError& e) {
      PyErr_SetString(g_runtime_error, e.what());
    } catch (const Error& e) {
      PyErr_SetString(g_error, e.what());
    }
  });
}

}  // namespace joulebench::python
