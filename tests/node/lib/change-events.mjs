// Reading change streams in tests without hanging: the driver's next()
// waits forever when no event comes, which turns a missing event into a
// stuck suite instead of a failure.

/** The next event of stream, or an error after timeoutMs. */
export async function nextChange(stream, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const event = await stream.tryNext();
    if (event) return event;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no change event within ${timeoutMs} ms`);
}

/** The next n events of stream. */
export async function nextChanges(stream, n, timeoutMs = 5000) {
  const events = [];
  while (events.length < n) events.push(await nextChange(stream, timeoutMs));
  return events;
}

/** Every event that arrives within quietMs (an empty array if none). */
export async function changesWithin(stream, quietMs = 500) {
  const events = [];
  const deadline = Date.now() + quietMs;
  while (Date.now() < deadline) {
    const event = await stream.tryNext();
    if (event) events.push(event);
    else await new Promise((r) => setTimeout(r, 20));
  }
  return events;
}

/** Opens a stream that starts now and waits until the server has opened
 *  it, so that changes made right after are seen (the driver opens streams
 *  lazily).  Not for resumed streams: the first poll could swallow an event. */
export async function openedStream(target, pipeline = [], options = {}) {
  const stream = target.watch(pipeline, options);
  await stream.tryNext();
  return stream;
}
