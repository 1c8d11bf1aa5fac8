# Runs one command and passes only if it exits with EXIT and its output (stdout and stderr) matches
# every regex of EXPECT. COMMAND and EXPECT are lists joined with <and>.
# Usage: cmake -DCOMMAND=..<and>.. -DEXIT=n -DEXPECT=..<and>.. -P expect.cmake
string(REPLACE "<and>" ";" command "${COMMAND}")
string(REPLACE "<and>" ";" expects "${EXPECT}")
execute_process(COMMAND ${command} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc STREQUAL "${EXIT}")
  message(FATAL_ERROR "exit status ${rc}, expected ${EXIT}; the output was:\n${out}")
endif()
foreach(re IN LISTS expects)
  if(NOT out MATCHES "${re}")
    message(FATAL_ERROR "the output lacks /${re}/; it was:\n${out}")
  endif()
endforeach()
message(STATUS "exit ${rc} as expected; the output was:\n${out}")
