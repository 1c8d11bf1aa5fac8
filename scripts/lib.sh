# Shared by the scripts (sourced, not run): quiet steps that say which step failed, and the one
# optimised build that the demo, the benchmarks, bench/kv_compare.sh and the gcc test pass share.

# Where each step's whole output goes.
capkit_logs=${CAPKIT_LOGS:-$PWD/build/logs}

# Prints why a step failed: its name, the first compiler or CMake errors in its output (a long
# template error's cause is at its start, not its end), the output's last lines, the log's path.
capkit_explain_failure() {  # name status log
  local name=$1 status=$2 log=$3
  {
    echo
    echo "capkit: step '$name' failed (exit status $status)."
    if grep -qE '(error|Error)( [A-Z0-9]+)?:|CMake Error' "$log"; then
      echo "--- its first errors:"
      grep -m 5 -E '(error|Error)( [A-Z0-9]+)?:|CMake Error' "$log" | cut -c 1-400
    fi
    echo "--- the last 40 lines of its output:"
    tail -n 40 "$log" | cut -c 1-400
    echo "--- its whole output: $log"
  } >&2
}

# Runs `command...` as the step `name`, its output in $capkit_logs/<name>.log: nothing is printed
# when it succeeds; when it fails, capkit_explain_failure says why and the script stops with the
# step's status.
capkit_step() {  # name command...
  local name=$1 status=0 log
  shift
  mkdir -p "$capkit_logs"
  log="$capkit_logs/${name//[^A-Za-z0-9_.-]/-}.log"
  # A build takes minutes: say what runs, so a quiet terminal is not taken for a hang.
  [[ $name != build* ]] || echo "capkit: $name (output: $log)"
  "$@" >"$log" 2>&1 || status=$?
  if ((status != 0)); then
    capkit_explain_failure "$name" "$status" "$log"
    exit "$status"
  fi
}

# As capkit_step, but the output is shown as it comes (tests, whose progress is the point); a
# failure still ends with the sentence naming the step and the log's path.
capkit_step_shown() {  # name command...
  local name=$1 status=0 log
  shift
  mkdir -p "$capkit_logs"
  log="$capkit_logs/${name//[^A-Za-z0-9_.-]/-}.log"
  set -o pipefail
  "$@" 2>&1 | tee "$log" || status=$?
  if ((status != 0)); then
    {
      echo
      echo "capkit: step '$name' failed (exit status $status); its whole output: $log"
    } >&2
    exit "$status"
  fi
}

# The compiler launcher: ccache when it is installed (a machine that builds again rebuilds only
# what changed), nothing otherwise. Depend mode takes the headers from the compiler's own depfile
# instead of running the preprocessor once more on every miss, which on a cold cache cost
# minutes of a CI run.
export CCACHE_DEPEND=${CCACHE_DEPEND:-true}
# The test binary's precompiled header: ccache caches files that use one only when told to
# ignore the defines and time macros a precompiled header can hide.
export CCACHE_SLOPPINESS=${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}
capkit_launcher() {
  if command -v ccache >/dev/null; then
    echo "-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"
  else
    echo "-DCMAKE_CXX_COMPILER_LAUNCHER="
  fi
}

# The warnings every build of ours turns into errors, on every compiler and optimisation level.
capkit_warnings="-Wall -Wextra -Wpedantic -Werror"

# The optimised g++ build in build/release, configured the same way by every script that uses it
# (scripts/demo, scripts/bench, bench/kv_compare.sh, scripts/test's gcc pass), so that what a
# user builds from one of them is what CI builds, and one build serves them all. Configuring
# everything on costs nothing: each script builds only the targets it names.
capkit_release_dir=build/release
capkit_configure_release() {
  capkit_step "configure $capkit_release_dir (g++, Release)" \
    cmake -S . -B "$capkit_release_dir" -G Ninja -DCMAKE_CXX_COMPILER=g++ \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS="$capkit_warnings" "$(capkit_launcher)" \
    -DCAPKIT_BUILD_TESTS=ON -DCAPKIT_BUILD_BENCH=ON -DCAPKIT_BUILD_EXAMPLES=ON \
    -DCAPKIT_BUILD_TOOLS=ON -DCAPKIT_BUILD_FUZZ=OFF
}

# Builds targets of build/release quietly (a failure shows its compiler errors).
capkit_build_release() {  # target...
  capkit_step "build $*" cmake --build "$capkit_release_dir" -j "$(nproc)" --target "$@"
}
