/* Single owner chunks (SOC): a content-addressed chunk wrapped under an
 * address that only the owner of a secp256k1 key can write.
 *
 *   address = Keccak256(identifier || owner)
 *   bytes   = identifier (32) || signature (65) || span (8) || payload
 *   signed  = Keccak256(identifier || address of the wrapped chunk)
 *
 * The signature is the Ethereum-style one of mdbee/key.h, so the owner is
 * recovered from the bytes themselves: whoever holds only the bytes and the
 * address can check both, which is how a reader refuses a forged chunk from
 * an untrusted gateway. */
#ifndef MDBEE_SOC_H
#define MDBEE_SOC_H

#include <stddef.h>
#include <stdint.h>

#include "mdbee/bmt.h"
#include "mdbee/error.h"
#include "mdbee/key.h"

#define MDB_SOC_ID_SIZE 32
#define MDB_SOC_HEADER_SIZE (MDB_SOC_ID_SIZE + MDB_SIGNATURE_SIZE)
#define MDB_SOC_SIZE_MIN (MDB_SOC_HEADER_SIZE + MDB_SPAN_SIZE)
#define MDB_SOC_SIZE_MAX \
  (MDB_SOC_HEADER_SIZE + MDB_SPAN_SIZE + MDB_CHUNK_PAYLOAD_MAX)

/* Writes Keccak256(id || owner): where the owner's SOC with id lives. */
void mdb_soc_address(const uint8_t id[MDB_SOC_ID_SIZE],
                     const uint8_t owner[MDB_ADDRESS_SIZE],
                     uint8_t address[MDB_REF_SIZE]);

/* Wraps chunk (span || payload, 8 to 4104 bytes, as in mdb_chunk; the span
 * may exceed the payload for an intermediate chunk) in a SOC signed by key.
 * Writes the SOC bytes to out (caller provides MDB_SOC_SIZE_MAX bytes), their
 * length to *out_size and the SOC address to address.  MDBEE_EINVAL when
 * chunk_size is out of range or a leaf chunk's span (<= 4096) differs from
 * its payload length. */
int mdb_soc_make(const mdb_key *key, const uint8_t id[MDB_SOC_ID_SIZE],
                 const uint8_t *chunk, size_t chunk_size, uint8_t *out,
                 size_t *out_size, uint8_t address[MDB_REF_SIZE],
                 mdb_error *err);

/* A parsed SOC.  The pointers point into the bytes given to mdb_soc_parse
 * and live as long as they do. */
typedef struct mdb_soc {
  const uint8_t *id;        /* 32 bytes */
  const uint8_t *signature; /* 65 bytes */
  const uint8_t *chunk;     /* wrapped chunk: span || payload */
  size_t chunk_size;
  uint8_t chunk_address[MDB_REF_SIZE]; /* BMT address of the wrapped chunk */
  uint8_t owner[MDB_ADDRESS_SIZE];     /* recovered from the signature */
  uint8_t address[MDB_REF_SIZE];       /* Keccak256(id || owner) */
} mdb_soc;

/* Parses untrusted SOC bytes and recovers the owner.  This alone proves
 * nothing: the caller must compare soc->address with the address it asked
 * for (mdb_soc_verify does).  MDBEE_EFORMAT when size is outside
 * MDB_SOC_SIZE_MIN..MDB_SOC_SIZE_MAX or the wrapped chunk is a leaf (span
 * <= 4096) whose payload length differs from its span (trailing zeros
 * would otherwise pass the BMT check); MDBEE_EVERIFY when the signature
 * recovers no key. */
int mdb_soc_parse(const uint8_t *data, size_t size, mdb_soc *soc,
                  mdb_error *err);

/* Parses data and checks that it is the SOC stored at address and, when
 * owner is not NULL, that owner signed it.  Any mismatch (bit flips in the
 * identifier, signature, span or payload, another owner, another address)
 * is MDBEE_EVERIFY; MDBEE_EFORMAT as for mdb_soc_parse.  soc may be NULL when the caller needs no fields. */
int mdb_soc_verify(const uint8_t *data, size_t size,
                   const uint8_t address[MDB_REF_SIZE],
                   const uint8_t *owner, mdb_soc *soc, mdb_error *err);

#endif
