# Counting test results for scripts/test.  Every suite prints TAP; a suite
# that exits non-zero without reporting a failure, or reports nothing at
# all, counts as one failure, so a crash or an empty suite never passes.

TALLY_PASS=0
TALLY_FAIL=0
TALLY_SKIP=0
TALLY_FAILED_SUITES=()
TALLY_LOGS=${TALLY_LOGS:-$MDBEE_ROOT/build/test-logs}
mkdir -p "$TALLY_LOGS"

# tally_run LABEL COMMAND...: runs the command, logs to $TALLY_LOGS/LABEL.log.
tally_run() {
  local label=$1; shift
  local log="$TALLY_LOGS/${label//\//_}.log"
  local start=$SECONDS
  "$@" >"$log" 2>&1
  local rc=$? pass fail skip
  if grep -qE '^# (pass|fail) [0-9]+' "$log"; then
    # node:test summary: counts every test, nested ones included.
    pass=$(sed -nE 's/^# pass ([0-9]+)$/\1/p' "$log" | tail -1)
    fail=$(sed -nE 's/^# fail ([0-9]+)$/\1/p' "$log" | tail -1)
    skip=$(awk '/^# (skipped|todo) [0-9]+$/ {n += $3} END {print n + 0}' "$log")
  else
    # cmocka 1.1 prints a skipped case as "not ok N # SKIP": a skip either way.
    skip=$(grep -cE '^(not )?ok [0-9]+.*# (SKIP|skip)' "$log")
    pass=$(grep -E '^ok [0-9]+' "$log" | grep -cvE '# (SKIP|skip)')
    fail=$(grep -E '^not ok [0-9]+' "$log" | grep -cvE '# (SKIP|skip)')
  fi
  pass=${pass:-0}; fail=${fail:-0}; skip=${skip:-0}
  if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then fail=1; fi
  if [ "$pass" -eq 0 ] && [ "$fail" -eq 0 ] && [ "$skip" -eq 0 ]; then fail=1; fi
  TALLY_PASS=$((TALLY_PASS + pass))
  TALLY_FAIL=$((TALLY_FAIL + fail))
  TALLY_SKIP=$((TALLY_SKIP + skip))
  local status=ok
  if [ "$fail" -gt 0 ]; then
    status=FAIL
    TALLY_FAILED_SUITES+=("$label")
    echo "---- $log (last 40 lines) ----"
    tail -40 "$log"
    echo "----"
  fi
  printf '%-40s %4s  %d passed, %d failed, %d skipped (%ds)\n' \
    "$label" "$status" "$pass" "$fail" "$skip" $((SECONDS - start))
}

# tally_summary: prints the totals; the very last line is "N passed, N failed".
tally_summary() {
  [ "$TALLY_SKIP" -gt 0 ] && echo "$TALLY_SKIP skipped (not counted as passed)"
  [ ${#TALLY_FAILED_SUITES[@]} -gt 0 ] && echo "failed suites: ${TALLY_FAILED_SUITES[*]}"
  echo "$TALLY_PASS passed, $TALLY_FAIL failed"
  [ "$TALLY_FAIL" -eq 0 ]
}
