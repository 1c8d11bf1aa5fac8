# Runs the compiler on one compile-fail case and passes only if it fails AND its diagnostics match
# every expected regex (EXPECT, joined with <and>), so a case cannot pass by failing for another
# reason. With MAX_BYTES, the whole output must also stay under that size and its first error
# must match the first regex: the sentence comes first and no cascade follows it.
# Usage: cmake -DCOMPILER=.. -DINCLUDES=..<and>.. -DSOURCE=.. -DEXPECT=..<and>.. [-DMAX_BYTES=N]
#        [-DSTRIP_PREFIX=the checkout's path, left out of the size] -P check.cmake
string(REPLACE "<and>" ";" includes "${INCLUDES}")
string(REPLACE "<and>" ";" expects "${EXPECT}")
set(flags -std=c++20 -fsyntax-only)
foreach(dir IN LISTS includes)
  list(APPEND flags -I${dir})
endforeach()
execute_process(COMMAND ${COMPILER} ${flags} ${SOURCE} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                ERROR_VARIABLE out)
if(rc EQUAL 0)
  message(FATAL_ERROR "${SOURCE} compiled, but this misuse must be refused")
endif()
foreach(re IN LISTS expects)
  if(NOT out MATCHES "${re}")
    message(FATAL_ERROR "the diagnostics lack /${re}/; they were:\n${out}")
  endif()
endforeach()
if(MAX_BYTES)
  # Measured without the checkout's path, which would make the size depend on where it lives.
  set(measured "${out}")
  if(STRIP_PREFIX)
    string(REPLACE "${STRIP_PREFIX}" "" measured "${measured}")
  endif()
  string(LENGTH "${measured}" size)
  if(size GREATER MAX_BYTES)
    message(FATAL_ERROR "the diagnostics take ${size} bytes, more than ${MAX_BYTES}: a cascade "
                        "follows the sentence; they were:\n${out}")
  endif()
  list(GET expects 0 first_expect)
  string(REGEX MATCH "error:[^\n]*" first_error "${out}")
  if(NOT first_error MATCHES "${first_expect}")
    message(FATAL_ERROR "the first error is not the sentence /${first_expect}/ but:\n"
                        "${first_error}\nthe diagnostics were:\n${out}")
  endif()
endif()
message(STATUS "refused as intended, with: ${expects}")
