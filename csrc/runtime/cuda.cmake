# The CUDA kernels (FASTCOLLATE_CUDA_SOURCES: each capability's .cu, listed in its sources.cmake), included by the top-level CMakeLists.txt.
#
# FASTCOLLATE_CUDA: AUTO (the default) builds them when a CUDA compiler (nvcc) is found, ON requires one
# (a clear error without it), OFF never builds them. The kernels are compiled with warnings as errors for
# every architecture in FASTCOLLATE_CUDA_ARCHITECTURES: sm_75 (Turing) to sm_90 (Hopper) as machine code,
# plus compute_90 PTX, which the driver JIT-compiles for newer GPUs (Blackwell). nvcc 13 still supports
# sm_75 without a deprecation warning; sm_87 (Jetson Orin) is left out. The runtime is linked statically
# (CUDA::cudart_static): importing the extension needs no CUDA library or driver, and the runtime loads the
# driver only when a device is first asked for.

string(TOUPPER "${FASTCOLLATE_CUDA}" FASTCOLLATE_CUDA)
if(NOT FASTCOLLATE_CUDA MATCHES "^(AUTO|ON|OFF)$")
  message(FATAL_ERROR "FASTCOLLATE_CUDA=${FASTCOLLATE_CUDA}: expected AUTO, ON or OFF")
endif()
set(FASTCOLLATE_CUDA_ARCHITECTURES "75-real;80-real;86-real;89-real;90" CACHE STRING
    "CUDA architectures of the kernels (CMake CUDA_ARCHITECTURES syntax)")

set(FASTCOLLATE_WITH_CUDA OFF)
if(NOT FASTCOLLATE_CUDA STREQUAL "OFF")
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    set(FASTCOLLATE_WITH_CUDA ON)
  elseif(FASTCOLLATE_CUDA STREQUAL "ON")
    message(FATAL_ERROR "FASTCOLLATE_CUDA=ON, but no CUDA compiler was found: put nvcc on PATH or set "
                        "CUDACXX=/path/to/nvcc, or build with FASTCOLLATE_CUDA=AUTO (CUDA when nvcc is found) "
                        "or OFF")
  else()
    message(STATUS "fastcollate: no CUDA compiler found; building without the CUDA kernels (FASTCOLLATE_CUDA=AUTO)")
  endif()
endif()

if(FASTCOLLATE_WITH_CUDA)
  set(CMAKE_CUDA_ARCHITECTURES "${FASTCOLLATE_CUDA_ARCHITECTURES}")
  set(CMAKE_CUDA_RUNTIME_LIBRARY Static)
  enable_language(CUDA)
  find_package(CUDAToolkit REQUIRED)
  message(STATUS "fastcollate: CUDA kernels for ${FASTCOLLATE_CUDA_ARCHITECTURES} (nvcc ${CMAKE_CUDA_COMPILER_VERSION})")
endif()

# Links the CUDA kernels into `target` (the extension) and turns on their bindings, or nothing without CUDA.
function(fastcollate_add_cuda target)
  if(NOT FASTCOLLATE_WITH_CUDA)
    return()
  endif()
  add_library(fastcollate_cuda STATIC ${FASTCOLLATE_CUDA_SOURCES})
  target_include_directories(fastcollate_cuda PUBLIC csrc)
  set_target_properties(fastcollate_cuda PROPERTIES
    POSITION_INDEPENDENT_CODE ON
    CUDA_STANDARD 17
    CUDA_STANDARD_REQUIRED ON
    CUDA_ARCHITECTURES "${FASTCOLLATE_CUDA_ARCHITECTURES}"
    CUDA_RUNTIME_LIBRARY Static)
  # Warnings are errors for the device code of every architecture and for the host code nvcc hands to g++.
  target_compile_options(fastcollate_cuda PRIVATE
    $<$<COMPILE_LANGUAGE:CUDA>:-O3 --Werror=all-warnings -Xcompiler=-Wall,-Wextra,-Werror>)
  string(REPLACE ";" "," archs "${FASTCOLLATE_CUDA_ARCHITECTURES}")  # one definition, not a list
  target_compile_definitions(fastcollate_cuda PRIVATE FASTCOLLATE_CUDA_ARCHS="${archs}")
  target_link_libraries(fastcollate_cuda PUBLIC CUDA::cudart_static)
  # The entry points of every target launch on CUDA too (csrc/runtime/run.h); the bindings report the build.
  foreach(uses_cuda fastcollate_native ${target})
    target_compile_definitions(${uses_cuda} PRIVATE FASTCOLLATE_WITH_CUDA=1)
    target_link_libraries(${uses_cuda} PRIVATE fastcollate_cuda)
  endforeach()
endfunction()
