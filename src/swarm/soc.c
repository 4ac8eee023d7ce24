#include "mdbee/soc.h"

#include <string.h>

#include "mdbee/hex.h"
#include "mdbee/keccak.h"

void mdb_soc_address(const uint8_t id[MDB_SOC_ID_SIZE],
                     const uint8_t owner[MDB_ADDRESS_SIZE],
                     uint8_t address[MDB_REF_SIZE]) {
  uint8_t buf[MDB_SOC_ID_SIZE + MDB_ADDRESS_SIZE];
  memcpy(buf, id, MDB_SOC_ID_SIZE);
  memcpy(buf + MDB_SOC_ID_SIZE, owner, MDB_ADDRESS_SIZE);
  mdb_keccak256(buf, sizeof buf, address);
}

/* Keccak256(id || wrapped chunk address): what the owner signs. */
static void signing_digest(const uint8_t *id, const uint8_t *chunk,
                           size_t chunk_size, uint8_t chunk_address[32],
                           uint8_t digest[32]) {
  mdb_bmt_chunk_address(mdb_bmt_span_decode(chunk), chunk + MDB_SPAN_SIZE,
                        chunk_size - MDB_SPAN_SIZE, chunk_address);
  uint8_t buf[MDB_SOC_ID_SIZE + MDB_REF_SIZE];
  memcpy(buf, id, MDB_SOC_ID_SIZE);
  memcpy(buf + MDB_SOC_ID_SIZE, chunk_address, MDB_REF_SIZE);
  mdb_keccak256(buf, sizeof buf, digest);
}

/* Zero bytes appended to a payload leave its BMT root unchanged, so a leaf
 * chunk (span <= 4096) whose payload is longer than its span would verify
 * and yet read differently; one shorter is truncated.  Only the exact length
 * is accepted.  Larger spans are intermediate chunks (or encrypted ones,
 * whose span is ciphertext) and are left to the chunk-tree join. */
static int check_wrapped(const uint8_t *chunk, size_t chunk_size, int code,
                         mdb_error *err) {
  uint64_t span = mdb_bmt_span_decode(chunk);
  size_t len = chunk_size - MDB_SPAN_SIZE;
  if (span <= MDB_CHUNK_PAYLOAD_MAX && span != len)
    return mdb_error_set(err, code,
                         "wrapped chunk has span %llu but %zu payload bytes",
                         (unsigned long long)span, len);
  return MDBEE_OK;
}

int mdb_soc_make(const mdb_key *key, const uint8_t id[MDB_SOC_ID_SIZE],
                 const uint8_t *chunk, size_t chunk_size, uint8_t *out,
                 size_t *out_size, uint8_t address[MDB_REF_SIZE],
                 mdb_error *err) {
  if (chunk_size < MDB_SPAN_SIZE ||
      chunk_size > MDB_SPAN_SIZE + MDB_CHUNK_PAYLOAD_MAX)
    return mdb_error_set(err, MDBEE_EINVAL,
                         "a wrapped chunk is 8 to 4104 bytes, not %zu",
                         chunk_size);
  int rc = check_wrapped(chunk, chunk_size, MDBEE_EINVAL, err);
  if (rc != MDBEE_OK) return rc;
  uint8_t chunk_address[MDB_REF_SIZE], digest[32];
  signing_digest(id, chunk, chunk_size, chunk_address, digest);
  rc = mdb_key_sign(key, digest, out + MDB_SOC_ID_SIZE, err);
  if (rc != MDBEE_OK) return rc;
  memcpy(out, id, MDB_SOC_ID_SIZE);
  memmove(out + MDB_SOC_HEADER_SIZE, chunk, chunk_size);
  *out_size = MDB_SOC_HEADER_SIZE + chunk_size;
  uint8_t owner[MDB_ADDRESS_SIZE];
  mdb_key_address(key, owner);
  mdb_soc_address(id, owner, address);
  return MDBEE_OK;
}

int mdb_soc_parse(const uint8_t *data, size_t size, mdb_soc *soc,
                  mdb_error *err) {
  if (size < MDB_SOC_SIZE_MIN || size > MDB_SOC_SIZE_MAX)
    return mdb_error_set(err, MDBEE_EFORMAT,
                         "single owner chunk is %zu bytes, not %d to %d", size,
                         MDB_SOC_SIZE_MIN, MDB_SOC_SIZE_MAX);
  int rc = check_wrapped(data + MDB_SOC_HEADER_SIZE, size - MDB_SOC_HEADER_SIZE,
                         MDBEE_EFORMAT, err);
  if (rc != MDBEE_OK) return mdb_error_wrap(err, "single owner chunk");
  soc->id = data;
  soc->signature = data + MDB_SOC_ID_SIZE;
  soc->chunk = data + MDB_SOC_HEADER_SIZE;
  soc->chunk_size = size - MDB_SOC_HEADER_SIZE;
  uint8_t digest[32];
  signing_digest(soc->id, soc->chunk, soc->chunk_size, soc->chunk_address,
                 digest);
  rc = mdb_key_recover(digest, soc->signature, soc->owner, err);
  if (rc != MDBEE_OK)
    return mdb_error_wrap(err, "single owner chunk signature");
  mdb_soc_address(soc->id, soc->owner, soc->address);
  return MDBEE_OK;
}

int mdb_soc_verify(const uint8_t *data, size_t size,
                   const uint8_t address[MDB_REF_SIZE],
                   const uint8_t *owner, mdb_soc *soc, mdb_error *err) {
  mdb_soc local;
  if (!soc) soc = &local;
  int rc = mdb_soc_parse(data, size, soc, err);
  if (rc != MDBEE_OK) return rc;
  char want[2 * MDB_REF_SIZE + 1], got[2 * MDB_REF_SIZE + 1];
  if (memcmp(soc->address, address, MDB_REF_SIZE) != 0) {
    /* A changed identifier, chunk or signature recovers another owner and
     * so lands here: the address binds all of them. */
    mdb_hex_encode(address, MDB_REF_SIZE, want);
    mdb_hex_encode(soc->address, MDB_REF_SIZE, got);
    return mdb_error_set(err, MDBEE_EVERIFY,
                         "single owner chunk claimed as %s is signed for %s",
                         want, got);
  }
  if (owner && memcmp(soc->owner, owner, MDB_ADDRESS_SIZE) != 0) {
    mdb_hex_encode(owner, MDB_ADDRESS_SIZE, want);
    mdb_hex_encode(soc->owner, MDB_ADDRESS_SIZE, got);
    return mdb_error_set(err, MDBEE_EVERIFY,
                         "single owner chunk is signed by 0x%s, not 0x%s",
                         got, want);
  }
  return MDBEE_OK;
}
