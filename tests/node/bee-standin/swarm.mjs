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

export class MissingChunk extends Error {
  constructor(address) {
    super(`chunk ${address} not found`);
    this.address = address;
  }
}

// Joins the chunk tree whose root chunk is rootData; get(addressHex) returns
// a chunk's bytes or null.  Throws MissingChunk for a hole in the tree.
export function joinBytes(rootData, get) {
  const parts = [];
  const walk = (data) => {
    const span = spanOf(data);
    const payload = data.subarray(SPAN_SIZE);
    if (span <= BigInt(CHUNK_SIZE)) {
      parts.push(payload.subarray(0, Number(span)));
      return;
    }
    for (let off = 0; off + REF_SIZE <= payload.length; off += REF_SIZE) {
      const ref = hex(payload.subarray(off, off + REF_SIZE));
      const child = get(ref);
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

// Looks `path` up in the manifest whose root node bytes are given by
// loadNode(refHex) (joined bytes or null).  Returns {target, metadata} for an
// exact entry or null.  Fork metadata lives in the parent's fork record, the
// entry in the child node, as in mantaray 0.2.
export function manifestLookup(rootRef, path, loadNode) {
  let node = MantarayNode.unmarshalFromData(loadNode(rootRef), Buffer.from(rootRef, 'hex'));
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
    node = MantarayNode.unmarshalFromData(loadNode(childRef), fork.node.selfAddress);
  }
  return { target: hex(node.targetAddress), metadata: metadata ?? {} };
}

export { Binary };
