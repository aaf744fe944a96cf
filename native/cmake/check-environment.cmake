# Run at build time (cmake -P) by the int8_detect_environment_check target, before any module is
# compiled: cmake-js reconfigures only when a configure dependency file changes, so an environment
# variable that steers the detection (OpenVINO_DIR, TENSORRT_ROOT, CUDAToolkit_ROOT) and changed
# since the last configure would otherwise be ignored. On a change it touches the stamp CMake
# depends on, so the next build configures again, and stops this one with the reason.
#   -DNAMES=a;b -DCONFIGURED=<value of a>|<value of b> -DSTAMP=<file>
set(current "")
foreach(name IN LISTS NAMES)
  string(APPEND current "$ENV{${name}}|")
endforeach()
if(NOT current STREQUAL CONFIGURED)
  file(TOUCH "${STAMP}")
  string(REPLACE ";" ", " names_text "${NAMES}")
  message(FATAL_ERROR "int8-detect: ${names_text} changed since CMake configured this build "
                      "('${CONFIGURED}' then, '${current}' now): it must detect the runtimes again. "
                      "Build again (cmake-js compile retries by itself with a fresh configure).")
endif()
