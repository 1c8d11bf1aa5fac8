# Runs the compiler on one compile-fail case and passes only if it fails AND its diagnostics match
# every expected regex (EXPECT, joined with <and>), so a case cannot pass by failing for another
# reason. Usage: cmake -DCOMPILER=.. -DINCLUDES=..<and>.. -DSOURCE=.. -DEXPECT=..<and>.. -P check.cmake
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
message(STATUS "refused as intended, with: ${expects}")
