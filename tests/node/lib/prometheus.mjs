// Reading what `mdbee run` serves on metrics.listen, for the metrics tests
// and the demo's check.
import assert from 'node:assert/strict';

// Parses the Prometheus text format: { 'name{labels}': value }, checking
// that every series belongs to a family announced by HELP and TYPE lines.
export function parseMetrics(text) {
  const series = {};
  const typed = new Set();
  const helped = new Set();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (m) {
      if (m[1] === 'TYPE') {
        assert.match(m[3], /^(counter|gauge)$/, line);
        typed.add(m[2]);
      } else helped.add(m[2]);
      continue;
    }
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    assert.ok(m, `not an exposition line: ${line}`);
    assert.ok(typed.has(m[1]) && helped.has(m[1]), `series before its HELP/TYPE: ${line}`);
    series[m[1] + (m[2] ?? '')] = Number(m[3]);
  }
  return series;
}
