# slow
# The Bee client's end-to-end suite again with the ASan+UBSan build of its
# test program, so leaks and undefined behaviour on the fault paths (resets,
# retries, refusals) fail the run.
tally_run node/bee-client-asan env MDBEE_BIN="$MDBEE_ROOT/build/asan/mdbee" \
  node --test --test-reporter=tap --test-concurrency=1 tests/node/bee-client/*.test.mjs
