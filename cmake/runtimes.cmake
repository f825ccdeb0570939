# Model runtimes: ONNX Runtime (npm tarball, cache), llama.cpp (built from source into the cache),
# fastText and OpenCV (Debian packages). Everything lands in one INTERFACE target,
# serval_runtime_deps, that the serval library links.
add_library(serval_runtime_deps INTERFACE)

# ONNX Runtime 1.29: headers + libonnxruntime.so.1 (the binaries get an RPATH to the cache).
find_path(ONNXRUNTIME_INCLUDE_DIR onnxruntime_cxx_api.h PATHS ${SERVAL_CACHE}/onnxruntime/include NO_DEFAULT_PATH)
find_library(ONNXRUNTIME_LIBRARY onnxruntime PATHS ${SERVAL_CACHE}/onnxruntime/lib NO_DEFAULT_PATH)
if(NOT ONNXRUNTIME_INCLUDE_DIR OR NOT ONNXRUNTIME_LIBRARY)
  message(FATAL_ERROR "ONNX Runtime not found in ${SERVAL_CACHE}/onnxruntime: run scripts/setup.sh (make setup)")
endif()
target_include_directories(serval_runtime_deps SYSTEM INTERFACE ${ONNXRUNTIME_INCLUDE_DIR})
target_link_libraries(serval_runtime_deps INTERFACE ${ONNXRUNTIME_LIBRARY})

# fastText (Debian libfasttext-dev).
find_path(FASTTEXT_INCLUDE_DIR fasttext/fasttext.h)
find_library(FASTTEXT_LIBRARY fasttext)
if(NOT FASTTEXT_INCLUDE_DIR OR NOT FASTTEXT_LIBRARY)
  message(FATAL_ERROR "fastText not found: apt-get install libfasttext-dev (make setup)")
endif()
target_include_directories(serval_runtime_deps SYSTEM INTERFACE ${FASTTEXT_INCLUDE_DIR})
target_link_libraries(serval_runtime_deps INTERFACE ${FASTTEXT_LIBRARY})

# OpenCV core + imgproc + imgcodecs (Debian): image decoding and OCR geometry.
find_path(OPENCV_INCLUDE_DIR opencv2/imgproc.hpp PATH_SUFFIXES opencv4)
foreach(m core imgproc imgcodecs)
  find_library(OPENCV_${m}_LIBRARY opencv_${m})
  if(NOT OPENCV_${m}_LIBRARY)
    message(FATAL_ERROR "OpenCV ${m} not found: apt-get install libopencv-imgproc-dev libopencv-imgcodecs-dev (make setup)")
  endif()
  list(APPEND OPENCV_LIBRARIES ${OPENCV_${m}_LIBRARY})
endforeach()
target_include_directories(serval_runtime_deps SYSTEM INTERFACE ${OPENCV_INCLUDE_DIR})
target_link_libraries(serval_runtime_deps INTERFACE ${OPENCV_LIBRARIES})

# llama.cpp: static libraries from scripts/build_llama.sh.
set(LLAMA_DIR ${SERVAL_CACHE}/llama.cpp/install)
set(SERVAL_HAVE_LLAMA OFF)
if(EXISTS ${LLAMA_DIR}/include/llama.h AND EXISTS ${LLAMA_DIR}/lib/libllama.a)
  set(SERVAL_HAVE_LLAMA ON)
  find_package(OpenMP REQUIRED)
  target_include_directories(serval_runtime_deps SYSTEM INTERFACE ${LLAMA_DIR}/include)
  target_link_libraries(serval_runtime_deps INTERFACE
    ${LLAMA_DIR}/lib/libllama.a ${LLAMA_DIR}/lib/libggml.a ${LLAMA_DIR}/lib/libggml-cpu.a
    ${LLAMA_DIR}/lib/libggml-base.a OpenMP::OpenMP_CXX ${CMAKE_DL_LIBS})
  target_compile_definitions(serval_runtime_deps INTERFACE SERVAL_HAVE_LLAMA=1)
else()
  message(WARNING "llama.cpp not built in ${LLAMA_DIR}: the llama runtime is left out (run scripts/setup.sh)")
  target_compile_definitions(serval_runtime_deps INTERFACE SERVAL_HAVE_LLAMA=0)
endif()
