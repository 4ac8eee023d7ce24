// Swarm formats for the Bee stand-in.  Every hash, chunk tree, manifest and
// signature is computed or checked by bee-js (and its cafe-utility
// dependency), never by code of ours, so the stand-in can only agree with
// mdbee when mdbee matches the reference.
import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import { Binary, MerkleTree } from 'cafe-utility';
import { MantarayNode, NULL_ADDRESS } from '@ethersphere/bee-js';

const require = createRequire(import.meta.url);
const beeDir = dirname(require.resolve('@ethersphere/bee-js'));
const { makeContentAddressedChunk } = require(join(beeDir, 'chunk/cac.js'));
const { unmarshalSingleOwnerChunk, makeSOCAddress } = require(join(beeDir, 'chunk/soc.js'));
const { makeFeedIdentifier } = require(join(beeDir, 'feed/identifier.js'));
const { EthAddress, Identifier, Topic, FeedIndex } = require('@ethersphere/bee-js');

export const SPAN_SIZE = 8;
export const CHUNK_SIZE = 4096;
const REF_SIZE = 32;
const KEY_SIZE = 32;
export const ENCRYPTED_REF_SIZE = REF_SIZE + KEY_SIZE;

export const hex = (b) => Buffer.from(b).toString('hex');

export function spanOf(data) {
  return Buffer.from(data.subarray(0, SPAN_SIZE)).readBigUInt64LE(0);
}

// Address of span||payload as a content-addressed chunk, or null when the
// bytes cannot be one (short, or payload over 4096 bytes).
export function cacAddress(data) {
  if (data.length < SPAN_SIZE || data.length > SPAN_SIZE + CHUNK_SIZE) return null;
  const chunk = makeContentAddressedChunk(data.subarray(SPAN_SIZE), spanOf(data));
  return hex(chunk.address.toUint8Array());
}

// Checks a single owner chunk posted as /soc/{owner}/{id}?sig= with body
// span||payload; returns the SOC's address and full stored bytes, or throws
// when the signature does not recover to `owner`.
export function verifySoc(ownerHex, idHex, sigHex, body) {
  const identifier = new Identifier(idHex);
  const owner = new EthAddress(ownerHex);
  const address = makeSOCAddress(identifier, owner);
  const data = Buffer.concat([Buffer.from(idHex, 'hex'), Buffer.from(sigHex, 'hex'), body]);
  const soc = unmarshalSingleOwnerChunk(data, address);
  if (!soc.owner.equals(owner)) throw new Error('owner mismatch');
  return { address: address.toHex(), data };
}

// Parses stored SOC bytes (identifier||signature||span||payload).
export function parseSoc(data, addressHex) {
  return unmarshalSingleOwnerChunk(data, addressHex);
}

export function socAddress(ownerHex, idHex) {
  return makeSOCAddress(new Identifier(idHex), new EthAddress(ownerHex)).toHex();
}

export function feedUpdateAddress(ownerHex, topicHex, index) {
  const id = makeFeedIdentifier(new Topic(topicHex), FeedIndex.fromBigInt(BigInt(index)));
  return makeSOCAddress(id, new EthAddress(ownerHex)).toHex();
}

export function feedIndexHex(index) {
  return FeedIndex.fromBigInt(BigInt(index)).toHex();
}

// Splits bytes into a chunk tree, calling put(addressHex, span||payload) for
// every chunk; returns the root reference.
export async function splitBytes(bytes, put) {
  const tree = new MerkleTree(async (chunk) => {
    const span = Buffer.alloc(SPAN_SIZE);
    span.writeBigUInt64LE(chunk.span);
    const body = chunk.writer.buffer.subarray(0, chunk.writer.cursor);
    put(hex(chunk.hash()), Buffer.concat([span, body]));
  });
  await tree.append(bytes);
  return hex((await tree.finalize()).hash());
}

// ---- encryption (Bee's pkg/encryption, written from its description) -------
//
// bee-js has no encryption code, so this is the stand-in's own, independent
// of mdbee's C: 32-byte segment i of a keystream is
// Keccak256(Keccak256(key || uint32le(counter0 + i))); the payload (padded
// to 4096 bytes) starts at counter 0, the 8-byte span at 4096 / 32 = 128.
// A chunk referenced by address || key is stored encrypted under address.

function transcrypt(key, data, counter0) {
  const out = Buffer.from(data);
  for (let i = 0; i * 32 < out.length; i++) {
    const seed = Buffer.alloc(KEY_SIZE + 4);
    Buffer.from(key).copy(seed);
    seed.writeUInt32LE(counter0 + i, KEY_SIZE);
    const segment = Binary.keccak256(Binary.keccak256(seed));
    for (let j = 0; j < 32 && i * 32 + j < out.length; j++) out[i * 32 + j] ^= segment[j];
  }
  return out;
}

// Decrypts a stored 4104-byte chunk with key and drops the padding: what
// Bee's decrypting getter hands its joiner (span || payload, where an
// intermediate chunk keeps as many 64-byte references as its span needs).
export function decryptChunk(data, key) {
  if (data.length !== SPAN_SIZE + CHUNK_SIZE) throw new Error(`encrypted chunk of ${data.length} bytes`);
  const span = transcrypt(key, data.subarray(0, SPAN_SIZE), CHUNK_SIZE / 32);
  const size = span.readBigUInt64LE(0);
  let length = size;
  if (size > BigInt(CHUNK_SIZE)) {
    // Every child but the last holds the largest 4096 * 64^k below size.
    const branches = BigInt(CHUNK_SIZE / ENCRYPTED_REF_SIZE);
    let child = BigInt(CHUNK_SIZE);
    while (child * branches < size) child *= branches;
    length = ((size + child - 1n) / child) * BigInt(ENCRYPTED_REF_SIZE);
  }
  if (length > BigInt(CHUNK_SIZE)) throw new Error('decrypted span does not fit a chunk');
  return Buffer.concat([span, transcrypt(key, data.subarray(SPAN_SIZE, SPAN_SIZE + Number(length)), 0)]);
}

// A chunk by reference: 64 hex digits (plain) or 128 (address || key,
// decrypted on the way), from get(addressHex); null when missing.
export function getChunk(ref, get) {
  if (ref.length === 2 * REF_SIZE) return get(ref);
  const data = get(ref.slice(0, 2 * REF_SIZE));
  return data && decryptChunk(data, Buffer.from(ref.slice(2 * REF_SIZE), 'hex'));
}

export class MissingChunk extends Error {
  constructor(address) {
    super(`chunk ${address} not found`);
    this.address = address;
  }
}

// Joins the chunk tree whose root chunk is rootData (decrypted already when
// encrypted, then with refSize 64); get(addressHex) returns a stored
// chunk's bytes or null.  Throws MissingChunk for a hole in the tree.
export function joinBytes(rootData, get, refSize = REF_SIZE) {
  const parts = [];
  const walk = (data) => {
    const span = spanOf(data);
    const payload = data.subarray(SPAN_SIZE);
    if (span <= BigInt(CHUNK_SIZE)) {
      parts.push(payload.subarray(0, Number(span)));
      return;
    }
    for (let off = 0; off + refSize <= payload.length; off += refSize) {
      const ref = hex(payload.subarray(off, off + refSize));
      const child = getChunk(ref, get);
      if (!child) throw new MissingChunk(ref);
      walk(child);
    }
  };
  walk(rootData);
  return Buffer.concat(parts);
}

// Stores a manifest tree bottom-up and returns its root reference.
export async function saveManifest(node, put) {
  for (const fork of node.forks.values()) {
    fork.node.selfAddress = Buffer.from(await saveManifest(fork.node, put), 'hex');
  }
  return splitBytes(await node.marshal(), put);
}

export function newManifest() {
  return new MantarayNode();
}

export const ZERO_REF = hex(NULL_ADDRESS);
export const isZeroRef = (ref) => /^0+$/.test(ref);

// Parses a node as Bee does: its fork references have the size its header
// gives (byte 63, under the obfuscation key), which for a plain root of an
// encrypted manifest is 64 although the node's own reference is 32.
// bee-js sizes them by the reference that led to the node instead, so it
// is handed one of the header's size.
function unmarshalNode(data, ref) {
  const size = data.length >= 64 ? data[63] ^ data[31] : 0;
  const self = Buffer.alloc(size || REF_SIZE);
  Buffer.from(ref, 'hex').copy(self);
  return MantarayNode.unmarshalFromData(data, self);
}

// Looks `path` up in the manifest whose root node bytes are given by
// loadNode(refHex) (joined bytes or null).  Returns {target, metadata} for an
// exact entry or null.  Fork metadata lives in the parent's fork record, the
// entry in the child node, as in mantaray 0.2.
export function manifestLookup(rootRef, path, loadNode) {
  let node = unmarshalNode(loadNode(rootRef), rootRef);
  let rest = Buffer.from(path, 'utf8');
  let metadata = null;
  while (rest.length > 0) {
    const fork = node.forks.get(rest[0]);
    if (!fork) return null;
    const prefix = Buffer.from(fork.prefix);
    if (rest.length < prefix.length || !rest.subarray(0, prefix.length).equals(prefix)) return null;
    rest = rest.subarray(prefix.length);
    metadata = fork.node.metadata ?? null;
    const childRef = hex(fork.node.selfAddress);
    node = unmarshalNode(loadNode(childRef), childRef);
  }
  return { target: hex(node.targetAddress), metadata: metadata ?? {} };
}

export { Binary };
