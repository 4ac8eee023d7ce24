#!/usr/bin/env node
// A stand-in for the part of Bee 2.8's HTTP API that mdbee and its readers
// use, following openapi/Swarm.yaml of ethersphere/bee v2.8.0 (paths, status
// codes, headers, {"code","message"} error bodies).  It answers like a node
// connected to a network (uploads are "synced" at once); chunk and
// signature checks are done with bee-js.
//
//   node server.mjs --port PORT --data DIR [--log FILE] [--dev-mode]
// prints "bee-standin listening on http://127.0.0.1:PORT" when ready.
//
// Fault injection (environment), for the clients' reliability tests:
//   BEE_STANDIN_FAIL_RATE=0.3     share of requests answered 500
//   BEE_STANDIN_RESET_RATE=0.3    share of responses cut mid-body (socket reset)
//   BEE_STANDIN_LATENCY_MS=200    delay before every answer
//   BEE_STANDIN_WRONG_REF_RATE=1  share of chunk uploads answered with a wrong
//                                 reference (a faulty or lying node)
//   BEE_STANDIN_FULL_BATCH=1      every batch is full (402 on stamped uploads)
//   BEE_STANDIN_DEV_MODE=1        answer like `bee dev` (same as --dev-mode)
//   BEE_STANDIN_SEED=N            seed of the fault dice (reproducible runs)
// /health and /readiness are never faulted, so a client can wait for start-up.
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { parseArgs } from 'node:util';
import { WebSocketServer } from 'ws';
import { Store } from './store.mjs';
import * as swarm from './swarm.mjs';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    data: { type: 'string' },
    log: { type: 'string' },
    'dev-mode': { type: 'boolean', default: false },
  },
});
if (!args.data) {
  process.stderr.write('usage: server.mjs --port PORT --data DIR [--log FILE] [--dev-mode]\n');
  process.exit(2);
}

const env = process.env;
const faults = {
  failRate: Number(env.BEE_STANDIN_FAIL_RATE ?? 0),
  resetRate: Number(env.BEE_STANDIN_RESET_RATE ?? 0),
  latencyMs: Number(env.BEE_STANDIN_LATENCY_MS ?? 0),
  wrongRefRate: Number(env.BEE_STANDIN_WRONG_REF_RATE ?? 0),
  fullBatch: env.BEE_STANDIN_FULL_BATCH === '1',
};
const devMode = args['dev-mode'] || env.BEE_STANDIN_DEV_MODE === '1';

// mulberry32: a seeded die so that a failing fault run can be replayed.
let seed = Number(env.BEE_STANDIN_SEED ?? randomBytes(4).readUInt32LE(0)) >>> 0;
function dice() {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

const store = new Store(args.data);
const logStream = args.log ? createWriteStream(args.log, { flags: 'a' }) : process.stderr;

const BEE_VERSION = '2.8.0-standin';
const API_VERSION = '7.4.1';
const BUCKET_DEPTH = 16;
const MIN_DEPTH = 17;
// Mainnet-like price (PLUR per chunk per block) and block time; a batch must
// pay for at least a day (17280 blocks), as Bee and bee-js require.
const PRICE = 24000n;
const BLOCK_SECONDS = 5;
const DAY_BLOCKS = 17280n;
const DEV_MODE_MESSAGE = 'operation not supported in dev mode';
const STATUS_TEXT = http.STATUS_CODES;

// ---- responses -------------------------------------------------------------

class Reply {
  constructor(status, body = Buffer.alloc(0), headers = {}) {
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}

function json(status, obj, headers = {}) {
  return new Reply(status, Buffer.from(JSON.stringify(obj)), { 'content-type': 'application/json; charset=utf-8', ...headers });
}

// Bee's error body: {"code": N, "message": "..."}; the message defaults to
// the HTTP status text, as in Bee's jsonhttp package.
function error(status, message, extra = {}) {
  return json(status, { code: status, message: message ?? STATUS_TEXT[status], ...extra });
}

function binary(body, headers = {}) {
  return new Reply(200, body, { 'content-type': 'application/octet-stream', ...headers });
}

class HttpError extends Error {
  constructor(reply) {
    super(reply.body.toString());
    this.reply = reply;
  }
}
const fail = (status, message, extra) => {
  throw new HttpError(error(status, message, extra));
};

// ---- validation helpers ------------------------------------------------------

function hexParam(value, bytes, field, where = 'path') {
  if (!/^[0-9a-fA-F]*$/.test(value) || value.length % 2 !== 0 || (bytes && value.length !== bytes * 2)) {
    fail(400, `invalid ${where} params`, { reasons: [{ field, error: bytes ? `want len:${bytes}` : 'invalid hex' }] });
  }
  return value.toLowerCase();
}

// A content reference: 32 bytes, or 64 (address || key) for encrypted
// content, as Bee's /bytes and /bzz take them.
function refParam(value, field) {
  const ref = hexParam(value, 0, field);
  if (ref.length !== 64 && ref.length !== 128) fail(400, 'invalid path params', { reasons: [{ field, error: 'want len:32 or len:64' }] });
  return ref;
}

function header(req, name) {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function boolHeader(req, name) {
  return (header(req, name) ?? '').toLowerCase() === 'true';
}

// ---- batches -----------------------------------------------------------------

function batchView(b) {
  const utilization = Math.max(0, ...Object.values(b.buckets));
  return {
    batchID: b.id,
    utilization,
    usable: true,
    label: b.label,
    depth: b.depth,
    amount: b.amount,
    bucketDepth: BUCKET_DEPTH,
    blockNumber: b.blockNumber,
    immutableFlag: b.immutable,
    exists: true,
    batchTTL: Math.max(1, Number(BigInt(b.amount) / PRICE) * BLOCK_SECONDS),
  };
}

// The upload context of a request: its batch (checked the way Bee checks the
// headers, in Bee's order) and its tag.
function uploadContext(req, { needsTagInDevMode = false } = {}) {
  const tag = tagFromHeader(req);
  const raw = header(req, 'swarm-postage-batch-id');
  if (!raw && !header(req, 'swarm-postage-stamp')) {
    fail(400, "Either 'Swarm-Postage-Stamp' or 'Swarm-Postage-Batch-Id' header must be set in the request");
  }
  if (!raw) fail(400, 'Stamp deserialization failure');
  const id = hexParam(raw, 0, 'swarm-postage-batch-id', 'header');
  if (id.length !== 64) fail(400, 'invalid batch id');
  const batch = store.state.batches[id];
  if (!batch) fail(404, 'batch with id not found');
  if (devMode && needsTagInDevMode && !tag) fail(400, DEV_MODE_MESSAGE);
  return { batch, tag };
}

function tagFromHeader(req) {
  const raw = header(req, 'swarm-tag');
  if (raw === undefined || raw === '') return null;
  if (!/^\d+$/.test(raw)) fail(400, 'invalid header params', { reasons: [{ field: 'swarm-tag', error: 'invalid syntax' }] });
  if (raw === '0') return null;
  const tag = store.state.tags[raw];
  if (!tag) fail(404, 'tag not found');
  return tag;
}

function newTag(address = swarm.ZERO_REF) {
  const uid = store.state.nextTag++;
  const tag = { uid, split: 0, seen: 0, stored: 0, sent: 0, synced: 0, address, startedAt: new Date().toISOString() };
  store.state.tags[uid] = tag;
  return tag;
}

// Stamps and stores one chunk.  A batch holds 2^(depth-16) chunks per bucket
// (the first 16 bits of the address); a full bucket is Bee's 402.
function putChunk(ctx, address, data) {
  const { batch, tag } = ctx;
  const stamped = store.stampedSet(batch.id);
  if (!stamped.has(address)) {
    const bucket = parseInt(address.slice(0, 4), 16);
    const capacity = 2 ** (batch.depth - BUCKET_DEPTH);
    if (faults.fullBatch || (batch.buckets[bucket] ?? 0) >= capacity) fail(402, 'batch is overissued');
    batch.buckets[bucket] = (batch.buckets[bucket] ?? 0) + 1;
    store.recordStamp(batch.id, address);
  }
  const existed = !store.put(address, data);
  if (tag) {
    tag.split++;
    if (existed) tag.seen++;
    tag.stored++;
    tag.sent++;
    tag.synced++;
  }
}

async function putBytes(ctx, bytes) {
  const chunks = [];
  const root = await swarm.splitBytes(bytes, (address, data) => chunks.push([address, data]));
  for (const [address, data] of chunks) putChunk(ctx, address, data);
  return root;
}

async function putManifest(ctx, node) {
  const chunks = [];
  const root = await swarm.saveManifest(node, (address, data) => chunks.push([address, data]));
  for (const [address, data] of chunks) putChunk(ctx, address, data);
  return root;
}

// The data under a reference (64 or 128 hex digits; an encrypted tree is
// decrypted chunk by chunk, as Bee's joiner does).
function joined(address, override) {
  const get = (a) => (override && a === override.address ? override.data : store.get(a));
  const root = swarm.getChunk(address, get);
  if (!root) return null;
  return swarm.joinBytes(root, get, address.length / 2);
}

function tagHeaders(tag) {
  return tag ? { 'swarm-tag': String(tag.uid), 'access-control-expose-headers': 'Swarm-Tag' } : {};
}

// ---- feeds -------------------------------------------------------------------

// Newest sequence update of a feed: Bee's lookup finds the last index before
// the first gap.
function latestFeedUpdate(owner, topic) {
  let index = -1;
  while (store.has(swarm.feedUpdateAddress(owner, topic, index + 1))) index++;
  if (index < 0) return null;
  const address = swarm.feedUpdateAddress(owner, topic, index);
  return { index, address, data: store.get(address) };
}

// The update in force at a time: the newest whose legacy payload timestamp
// (8 bytes big-endian after the wrapped chunk's span) is not after `at`, as
// Bee's sequence finder answers GET /feeds/...?at=.
function feedUpdateAt(owner, topic, at) {
  let found = null;
  for (let index = 0; ; index++) {
    const address = swarm.feedUpdateAddress(owner, topic, index);
    const data = store.get(address);
    if (!data) return found;
    const inner = data.subarray(32 + 65);
    if (inner.length < 16) return found;
    if (Number(Buffer.from(inner.subarray(8, 16)).readBigUInt64BE()) > at) return found;
    found = { index, address, data };
  }
}

// What an update points at, as Bee's resolveFeed decides: a legacy payload
// (timestamp || reference, wrapped CAC of 48 or 80 bytes) whose reference is
// retrievable is "v1"; otherwise the wrapped chunk itself is the content, "v2".
function resolveFeedUpdate(update) {
  const soc = swarm.parseSoc(update.data, update.address);
  const inner = update.data.subarray(32 + 65);
  if (inner.length === 48 || inner.length === 80) {
    const ref = swarm.hex(inner.subarray(16));
    const data = store.get(ref);
    if (data) return { address: ref, data, version: 'v1', signature: soc.signature.toHex() };
  }
  return { address: swarm.cacAddress(inner), data: inner, version: 'v2', signature: soc.signature.toHex() };
}

function feedHeaders(update, wrapped) {
  return {
    'swarm-feed-index': swarm.feedIndexHex(update.index),
    'swarm-feed-index-next': swarm.feedIndexHex(update.index + 1),
    'swarm-soc-signature': wrapped.signature,
    'swarm-feed-resolved-version': wrapped.version,
    'access-control-expose-headers': 'Swarm-Feed-Index, Swarm-Feed-Index-Next, Swarm-Soc-Signature',
  };
}

// ---- manifests ---------------------------------------------------------------

const MIME = {
  html: 'text/html; charset=utf-8', htm: 'text/html; charset=utf-8', txt: 'text/plain; charset=utf-8',
  json: 'application/json', css: 'text/css; charset=utf-8', js: 'text/javascript; charset=utf-8',
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', svg: 'image/svg+xml', xml: 'text/xml; charset=utf-8',
};
const mimeOf = (name) => MIME[name.split('.').pop().toLowerCase()] ?? '';

// Minimal ustar reader for collection uploads (bee-js sends one tar stream).
function* tarEntries(buf) {
  for (let off = 0; off + 512 <= buf.length; ) {
    const h = buf.subarray(off, off + 512);
    if (h.every((b) => b === 0)) return;
    const str = (a, n) => h.subarray(a, a + n).toString('utf8').replace(/\0.*$/s, '');
    const name = (str(345, 155) ? str(345, 155) + '/' : '') + str(0, 100);
    const size = parseInt(str(124, 12).trim() || '0', 8);
    const type = String.fromCharCode(h[156] || 48);
    if (Number.isNaN(size) || off + 512 + size > buf.length) fail(400, 'invalid tar');
    if (type === '0' || type === '\0') yield { name, data: buf.subarray(off + 512, off + 512 + size) };
    off += 512 + Math.ceil(size / 512) * 512;
  }
}

function loadNode(address, override) {
  const data = joined(address, override);
  if (!data) throw new swarm.MissingChunk(address);
  return data;
}

function lookup(root, path, override) {
  try {
    return swarm.manifestLookup(root, path, (a) => loadNode(a, override));
  } catch (e) {
    if (e instanceof swarm.MissingChunk) return null;
    throw e;
  }
}

function rootMetadata(root, override) {
  return lookup(root, '/', override)?.metadata ?? {};
}

function serveEntry(entry, extraHeaders) {
  const data = joined(entry.target);
  if (!data) fail(404, 'Not Found');
  const headers = { ...extraHeaders, 'content-type': entry.metadata['Content-Type'] || 'application/octet-stream' };
  if (entry.metadata.Filename) headers['content-disposition'] = `inline; filename="${entry.metadata.Filename.replace(/"/g, '\\"')}"`;
  return binary(data, headers);
}

function bzzGet(reference, path) {
  let root = reference;
  let override = null;
  const extra = {};
  if (!store.has(root.slice(0, 64))) fail(404, 'Not Found');
  try {
    swarm.manifestLookup(root, '', (a) => loadNode(a));
  } catch {
    fail(404, 'Not Found');
  }
  const meta = rootMetadata(root);
  if (meta['swarm-feed-owner']) {
    const update = latestFeedUpdate(meta['swarm-feed-owner'], meta['swarm-feed-topic']);
    if (!update) fail(404, 'no update found');
    const wrapped = resolveFeedUpdate(update);
    // Bee 2.8 looks a legacy payload's reference up whole with its raw
    // chunk getter, so a 64-byte (encrypted) one is never found.
    if (wrapped.version === 'v2' && update.data.length === 32 + 65 + 80) {
      fail(404, 'bzz download: feed pointing to the wrapped chunk not found');
    }
    root = wrapped.address;
    override = wrapped.version === 'v2' ? wrapped : null;
    extra['swarm-feed-index'] = swarm.feedIndexHex(update.index);
    extra['swarm-feed-resolved-version'] = wrapped.version;
    extra['access-control-expose-headers'] = 'Swarm-Feed-Index';
  }
  const docs = rootMetadata(root, override);
  const index = docs['website-index-document'];
  if (path === '' || path.endsWith('/')) {
    if (index) {
      const entry = lookup(root, path + index, override);
      if (entry) return serveEntry(entry, extra);
    }
  }
  const entry = path === '' ? null : lookup(root, path, override);
  if (entry && !swarm.isZeroRef(entry.target)) return serveEntry(entry, extra);
  if (index && !path.endsWith(index)) {
    const withIndex = lookup(root, `${path}/${index}`, override);
    if (withIndex) return serveEntry(withIndex, extra);
  }
  const errorDoc = docs['website-error-document'];
  if (errorDoc && path !== errorDoc) {
    const e = lookup(root, errorDoc, override);
    if (e) return serveEntry(e, extra);
  }
  fail(404, 'path address not found');
}

async function bzzPost(req, body, ctx, query) {
  const node = swarm.newManifest();
  const isCollection = boolHeader(req, 'swarm-collection') || header(req, 'content-type') === 'application/x-tar';
  const rootMeta = {};
  if (isCollection) {
    for (const { name, data } of tarEntries(body)) {
      const ref = await putBytes(ctx, data);
      node.addFork(name, ref, { 'Content-Type': mimeOf(name), Filename: name.split('/').pop() });
    }
    if (header(req, 'swarm-index-document')) rootMeta['website-index-document'] = header(req, 'swarm-index-document');
    if (header(req, 'swarm-error-document')) rootMeta['website-error-document'] = header(req, 'swarm-error-document');
  } else {
    const ref = await putBytes(ctx, body);
    const name = query.get('name') || ref;
    node.addFork(name, ref, { 'Content-Type': header(req, 'content-type') ?? '', Filename: name });
    rootMeta['website-index-document'] = name;
  }
  if (Object.keys(rootMeta).length) node.addFork('/', swarm.ZERO_REF, rootMeta);
  return putManifest(ctx, node);
}

// ---- routes ------------------------------------------------------------------

const HEX = '([0-9a-fA-F]*)';
const routes = [];
const route = (method, pattern, fn) => routes.push({ method, re: new RegExp(`^${pattern}$`), fn });

const statusBody = (status) => ({ status, version: BEE_VERSION, apiVersion: API_VERSION });
route('GET', '/', () => new Reply(200, Buffer.from('Ethereum Swarm Bee\n'), { 'content-type': 'text/plain; charset=utf-8' }));
route('GET', '/health', () => json(200, statusBody('ok')));
route('GET', '/readiness', () => json(200, statusBody('ready')));

route('POST', '/stamps/([^/]+)/([^/]+)', (req, m, body, query) => {
  if (!/^\d+$/.test(m[1]) || BigInt(m[1]) <= 0n) fail(400, 'invalid path params', { reasons: [{ field: 'amount', error: 'invalid value' }] });
  if (!/^\d+$/.test(m[2])) fail(400, 'invalid path params', { reasons: [{ field: 'depth', error: 'invalid syntax' }] });
  const depth = Number(m[2]);
  if (depth < MIN_DEPTH || depth > 255) fail(400, 'invalid depth');
  if (BigInt(m[1]) < PRICE * DAY_BLOCKS) fail(400, 'insufficient amount for 24h minimum validity');
  const id = randomBytes(32).toString('hex');
  store.state.batches[id] = {
    id, amount: m[1], depth, label: query.get('label') ?? '', immutable: header(req, 'immutable') !== 'false',
    blockNumber: Object.keys(store.state.batches).length + 1, buckets: {},
  };
  return json(201, { batchID: id, txHash: '0x' + randomBytes(32).toString('hex') });
});
route('GET', '/chainstate', () => {
  const block = Object.keys(store.state.batches).length + 1;
  return json(200, { chainTip: block, block, totalAmount: '0', currentPrice: String(PRICE) });
});
route('GET', '/stamps', () => json(200, { stamps: Object.values(store.state.batches).map(batchView) }));
route('GET', `/stamps/${HEX}`, (req, m) => {
  const id = hexParam(m[1], 32, 'batch_id');
  const b = store.state.batches[id];
  if (!b) fail(404, 'issuer does not exist');
  return json(200, batchView(b));
});

route('POST', '/chunks', (req, m, body) => {
  const ctx = uploadContext(req, { needsTagInDevMode: true });
  if (body.length < swarm.SPAN_SIZE) fail(400, 'insufficient data length');
  const address = swarm.cacAddress(body);
  // Bee tries a SOC when the bytes are no CAC; the stand-in keeps SOCs on
  // /soc, so anything else is Bee's answer for an invalid chunk.
  if (!address) fail(500, 'create chunk error');
  putChunk(ctx, address, body);
  const reference = dice() < faults.wrongRefRate ? swarm.hex(randomBytes(32)) : address;
  return json(201, { reference }, tagHeaders(ctx.tag));
});
route('GET', `/chunks/${HEX}`, (req, m) => {
  const data = store.get(hexParam(m[1], 32, 'address'));
  if (!data) fail(404, 'chunk not found');
  return binary(data);
});

route('POST', `/soc/${HEX}/${HEX}`, (req, m, body, query) => {
  const owner = hexParam(m[1], 20, 'owner');
  const id = hexParam(m[2], 32, 'id');
  const sig = hexParam(query.get('sig') ?? '', 65, 'sig', 'query');
  const ctx = uploadContext(req);
  if (devMode) fail(501, 'operation is not supported in dev mode');
  if (body.length < swarm.SPAN_SIZE) fail(400, 'short chunk data');
  if (body.length > swarm.SPAN_SIZE + swarm.CHUNK_SIZE) fail(413, 'payload too large');
  let soc;
  try {
    soc = swarm.verifySoc(owner, id, sig, body);
  } catch {
    fail(401, 'invalid chunk');
  }
  putChunk(ctx, soc.address, soc.data);
  return json(201, { reference: soc.address }, tagHeaders(ctx.tag));
});
route('GET', `/soc/${HEX}/${HEX}`, (req, m) => {
  const owner = hexParam(m[1], 20, 'owner');
  const id = hexParam(m[2], 32, 'id');
  const socAddress = swarm.socAddress(owner, id);
  const data = store.get(socAddress);
  if (!data) fail(404, 'requested chunk cannot be retrieved');
  const soc = swarm.parseSoc(data, socAddress);
  return binary(swarm.joinBytes(data.subarray(32 + 65), (a) => store.get(a)), { 'swarm-soc-signature': soc.signature.toHex() });
});

route('POST', '/bytes', async (req, m, body) => {
  const ctx = uploadContext(req);
  ctx.tag ??= newTag();
  const reference = await putBytes(ctx, body);
  return json(201, { reference }, tagHeaders(ctx.tag));
});
route('GET', `/bytes/${HEX}`, (req, m) => {
  const ref = refParam(m[1], 'address');
  let data;
  try {
    data = joined(ref);
  } catch {
    fail(404, 'Not Found');
  }
  if (!data) fail(404, 'Not Found');
  return binary(data);
});

route('POST', '/bzz', async (req, m, body, query) => {
  const ctx = uploadContext(req);
  ctx.tag ??= newTag();
  const reference = await bzzPost(req, body, ctx, query);
  return json(201, { reference }, tagHeaders(ctx.tag));
});
route('GET', `/bzz/${HEX}/?(.*)`, (req, m) => bzzGet(refParam(m[1], 'address'), decodeURIComponent(m[2])));

route('POST', `/feeds/${HEX}/${HEX}`, async (req, m, body, query) => {
  const owner = hexParam(m[1], 20, 'owner');
  const topic = hexParam(m[2], 32, 'topic');
  const type = query.get('type') ?? 'sequence';
  const ctx = uploadContext(req);
  if (type !== 'sequence') fail(400, 'invalid manifest type');
  const node = swarm.newManifest();
  node.addFork('/', swarm.ZERO_REF, { 'swarm-feed-owner': owner, 'swarm-feed-topic': topic, 'swarm-feed-type': 'Sequence' });
  const reference = await putManifest(ctx, node);
  return json(201, { reference }, tagHeaders(ctx.tag));
});
route('GET', `/feeds/${HEX}/${HEX}`, (req, m, body, query) => {
  const owner = hexParam(m[1], 20, 'owner');
  const topic = hexParam(m[2], 32, 'topic');
  const at = query.get('at');
  if (at !== null && !/^\d+$/.test(at)) fail(400, 'invalid query params', { reasons: [{ field: 'at', error: 'invalid syntax' }] });
  const update = at === null ? latestFeedUpdate(owner, topic) : feedUpdateAt(owner, topic, Number(at));
  if (!update) fail(404, 'no update found');
  const wrapped = resolveFeedUpdate(update);
  const headers = feedHeaders(update, wrapped);
  if (boolHeader(req, 'swarm-only-root-chunk')) return binary(wrapped.data, headers);
  const data = joined(wrapped.address, wrapped);
  if (!data) fail(404, 'wrapped chunk cannot be retrieved');
  return binary(data, headers);
});

route('GET', '/pins', () => json(200, { references: store.state.pins }));
route('POST', `/pins/${HEX}`, (req, m) => {
  const ref = refParam(m[1], 'reference');
  if (store.state.pins.includes(ref)) return error(200);
  if (!store.has(ref.slice(0, 64))) fail(404, 'pin collection failed');
  store.state.pins.push(ref);
  return error(201);
});
route('GET', `/pins/${HEX}`, (req, m) => {
  const ref = refParam(m[1], 'reference');
  if (!store.state.pins.includes(ref)) fail(404);
  return json(200, { reference: ref });
});
route('DELETE', `/pins/${HEX}`, (req, m) => {
  const ref = refParam(m[1], 'reference');
  if (!store.state.pins.includes(ref)) fail(404);
  store.state.pins = store.state.pins.filter((p) => p !== ref);
  return error(200);
});

route('POST', '/tags', (req, m, body) => {
  let address = swarm.ZERO_REF;
  if (body.length) {
    try {
      address = JSON.parse(body.toString()).address ?? address;
    } catch {
      fail(400, 'error unmarshaling metadata');
    }
  }
  return json(201, newTag(address));
});
route('GET', '/tags', () => json(200, { tags: Object.values(store.state.tags) }));
route('GET', '/tags/(\\d+)', (req, m) => {
  const tag = store.state.tags[m[1]];
  if (!tag) fail(404, 'tag not present');
  return json(200, tag);
});
route('DELETE', '/tags/(\\d+)', (req, m) => {
  if (!store.state.tags[m[1]]) fail(404, 'tag not present');
  delete store.state.tags[m[1]];
  return new Reply(204);
});

route('GET', `/stewardship/${HEX}`, (req, m) => {
  let ok = true;
  try {
    ok = joined(refParam(m[1], 'address')) !== null;
  } catch (e) {
    if (!(e instanceof swarm.MissingChunk)) throw e;
    ok = false;
  }
  return json(200, { isRetrievable: ok });
});
route('PUT', `/stewardship/${HEX}`, (req, m) => {
  hexParam(m[1], 32, 'address');
  uploadContext(req);
  return error(200);
});

// ---- server ------------------------------------------------------------------

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const unfaulted = new Set(['/health', '/readiness']);

async function dispatch(req, body) {
  const url = new URL(req.url, 'http://x');
  const path = url.pathname.replace(/\/+$/, '') || '/';
  let allowed = false;
  for (const r of routes) {
    const m = r.re.exec(path);
    if (!m) continue;
    allowed = true;
    if (r.method !== req.method && !(req.method === 'HEAD' && r.method === 'GET')) continue;
    try {
      const reply = await r.fn(req, m, body, url.searchParams);
      store.save();
      return reply;
    } catch (e) {
      if (e instanceof HttpError) return e.reply;
      logStream.write(`error ${req.method} ${req.url}: ${e.stack}\n`);
      return error(500);
    }
  }
  return allowed ? error(405) : error(404);
}

function send(res, reply, faultable) {
  if (faultable && dice() < faults.resetRate && reply.body.length > 0) {
    // Announce the whole body, deliver half, then drop the connection.
    res.writeHead(reply.status, { ...reply.headers, 'content-length': reply.body.length });
    res.write(reply.body.subarray(0, Math.floor(reply.body.length / 2)), () => res.socket?.resetAndDestroy?.() ?? res.socket?.destroy());
    return 'reset';
  }
  res.writeHead(reply.status, { ...reply.headers, 'content-length': reply.body.length });
  res.end(res.req.method === 'HEAD' ? undefined : reply.body);
  return reply.status;
}

const server = http.createServer((req, res) => {
  const started = Date.now();
  const parts = [];
  req.on('data', (c) => parts.push(c));
  req.on('end', async () => {
    const faultable = !unfaulted.has(new URL(req.url, 'http://x').pathname);
    let outcome;
    if (faultable && faults.latencyMs > 0) await sleep(faults.latencyMs);
    if (faultable && dice() < faults.failRate) {
      outcome = send(res, error(500), false);
    } else {
      outcome = send(res, await dispatch(req, Buffer.concat(parts)), faultable);
    }
    logStream.write(`${new Date().toISOString()} ${req.method} ${req.url} ${outcome} ${Date.now() - started}ms\n`);
  });
});
server.keepAliveTimeout = 60000;

// /chunks/stream: one binary message per chunk, an empty binary message as
// each acknowledgement, a close frame with the reason on the first error.
const wss = new WebSocketServer({ noServer: true });
server.on('upgrade', (req, socket, head) => {
  const path = new URL(req.url, 'http://x').pathname;
  let ctx;
  try {
    if (path !== '/chunks/stream') fail(404);
    ctx = uploadContext(req, { needsTagInDevMode: true });
  } catch (e) {
    const reply = e instanceof HttpError ? e.reply : error(500);
    socket.end(`HTTP/1.1 ${reply.status} ${STATUS_TEXT[reply.status]}\r\ncontent-type: application/json\r\ncontent-length: ${reply.body.length}\r\nconnection: close\r\n\r\n${reply.body}`);
    logStream.write(`${new Date().toISOString()} GET ${req.url} ${reply.status} upgrade refused\n`);
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    logStream.write(`${new Date().toISOString()} GET ${req.url} 101 websocket\n`);
    ws.on('message', (data, isBinary) => {
      if (!isBinary) return ws.close(1003, 'invalid message');
      const address = swarm.cacAddress(data);
      if (!address) return ws.close(1011, 'invalid chunk');
      try {
        putChunk(ctx, address, data);
        store.save();
      } catch (e) {
        return ws.close(1011, e instanceof HttpError ? JSON.parse(e.reply.body).message : 'chunk write error');
      }
      ws.send(Buffer.alloc(0), { binary: true });
    });
  });
});

server.listen(Number(args.port), '127.0.0.1', () => {
  process.stdout.write(`bee-standin listening on http://127.0.0.1:${server.address().port}\n`);
});
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    store.save();
    process.exit(0);
  });
}
