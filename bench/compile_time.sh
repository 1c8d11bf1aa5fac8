#!/usr/bin/env bash
# What including capkit costs a user's build, against a reference measured in the same run.
# Compiles, with g++ -std=c++20 -O2 -c (one object each, as a build would):
#   reference   bench/compile_time/reference.cpp: Boost.Asio and Boost.Hana, an io_context run
#   readme      the C++ example of README.md, taken from it as it stands
#   readme-once the same example where the replica type is compiled once elsewhere
#               (CAPKIT_EXTERN_CLUSTER, docs/compile-time.md), what a codebase's other files pay
#   preset-*    one file per preset of <capkit/presets.hpp>, used as the example uses its type
# ROUNDS times (default 3), each round every file in turn (A B A B, so a noisy neighbour hits
# them alike), and prints each file's median CPU seconds (user + system of the compiler) and
# its ratio to the reference's. CPU time rather than wall time: this machine's steal time moves
# wall time more. PRESETS=0 leaves the presets out (a quicker run).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-3}
with_presets=${PRESETS:-1}
cxx=${CXX:-g++}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fail() { echo "compile_time.sh: $*" >&2; exit 1; }
command -v "$cxx" >/dev/null || fail "no $cxx; run scripts/setup first"

scripts/readme_example --print >"$work/readme.cpp"
[[ -s $work/readme.cpp ]] || fail "README.md has no \`\`\`cpp block"
cp bench/compile_time/reference.cpp "$work/reference.cpp"
cp bench/compile_time/readme_once.cpp "$work/readme-once.cpp"

files=(reference readme readme-once)
if ((with_presets)); then
  # The catalogue's names, in order: each preset's name is the string its braces hold.
  mapfile -t preset_names < <(grep -o '"[a-z0-9-]*"}' include/capkit/presets.hpp | tr -d '"}')
  count=${#preset_names[@]}
  for ((i = 0; i < count; ++i)); do
    sed "s/CAPKIT_PRESET/$i/" bench/compile_time/preset.cpp.in >"$work/preset-$i.cpp"
    files+=("preset-$i")
  done
fi

flags=(-std=c++20 -O2 -Wall -Wextra -Wpedantic -Werror -Iinclude)
declare -A seconds
for ((round = 1; round <= rounds; ++round)); do
  for f in "${files[@]}"; do
    if ! /usr/bin/time -f '%U %S' -o "$work/$f.time" \
        "$cxx" "${flags[@]}" -c "$work/$f.cpp" -o "$work/$f.o" 2>"$work/$f.err"; then
      cat "$work/$f.err" >&2
      fail "$f does not compile (above)"
    fi
    seconds[$f]+="$(awk '{print $1 + $2}' "$work/$f.time") "
  done
  echo "round $round of $rounds done" >&2
done

median() { tr ' ' '\n' | grep . | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
ref=$(median <<<"${seconds[reference]}")
printf '%-14s %9s %7s   %s\n' file "cpu s" ratio "runs (s)"
for f in "${files[@]}"; do
  m=$(median <<<"${seconds[$f]}")
  name=$f
  if [[ $f == preset-* ]]; then
    name=${preset_names[${f#preset-}]}
  fi
  printf '%-14s %9.2f %7.2f   %s\n' "$name" "$m" "$(awk -v a="$m" -v b="$ref" 'BEGIN {print a / b}')" "${seconds[$f]}"
done
echo "compiler: $($cxx --version | head -1); flags: ${flags[*]}; $rounds rounds; load now: $(cut -d' ' -f1-3 /proc/loadavg)"
