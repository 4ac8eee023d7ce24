# slow
# Fuzzing: builds the libFuzzer targets of tests/fuzz with clang, ASan and
# UBSan in build/fuzz, then runs each for MDBEE_FUZZ_SECONDS (20) from its
# seed corpus.  A crash, leak or sanitizer report fails the target's step;
# the crashing input is kept in build/fuzz/artifacts/.
FUZZ_TARGETS=$(sed -nE "s/^  '([a-z_0-9]+)',$/\1/p" tests/fuzz/meson.build)
# Only the fuzz targets are built there: the rest of the tree is built and
# tested by gcc already.
fuzz_build() {
  [ -f build/fuzz/build.ninja ] || CC=clang meson setup build/fuzz -Dfuzz=true \
    --buildtype=debugoptimized -Db_sanitize=address,undefined -Db_lundef=false || return 1
  local t targets=()
  for t in $FUZZ_TARGETS; do targets+=("tests/fuzz/fuzz_$t"); done
  ninja -C build/fuzz "${targets[@]}" && echo "ok 1 - fuzz build"
}
fuzz_run() {
  local name=$1 corpus=build/fuzz/corpus/$1
  mkdir -p "$corpus" build/fuzz/artifacts
  if [ -f "tests/fuzz/seed_$name.mjs" ]; then
    node "tests/fuzz/seed_$name.mjs" "$corpus" || { echo "not ok 1 - seeds"; return 1; }
  fi
  if build/fuzz/tests/fuzz/fuzz_"$name" -max_total_time="${MDBEE_FUZZ_SECONDS:-20}" \
       -artifact_prefix=build/fuzz/artifacts/"$name"- -print_final_stats=1 "$corpus"; then
    echo "ok 1 - fuzz_$name ran ${MDBEE_FUZZ_SECONDS:-20}s without a crash"
  else
    echo "not ok 1 - fuzz_$name crashed (input in build/fuzz/artifacts/)"
    return 1
  fi
}
tally_run fuzz/build fuzz_build
for target in $FUZZ_TARGETS; do
  tally_run "fuzz/$target" fuzz_run "$target"
done
