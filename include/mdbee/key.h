/* secp256k1 signing keys: the publisher's identity on Swarm.
 *
 * A key is loaded from a file holding the private key as 64 hex digits, or
 * from an Ethereum V3 keystore (the JSON that Bee and ethers write; scrypt
 * or pbkdf2-sha256, aes-128-ctr).  The secret lives in libsodium guarded,
 * locked memory and is wiped when the key is freed; no function here ever
 * puts key or password bytes into an mdb_error message.
 *
 * Signatures are Ethereum-style: recoverable secp256k1 over
 * Keccak256("\x19Ethereum Signed Message:\n32" || digest), serialised as
 * r (32) || s (32) || v (1, 27 or 28), which is what Bee and bee-js put in
 * single owner chunks. */
#ifndef MDBEE_KEY_H
#define MDBEE_KEY_H

#include <stddef.h>
#include <stdint.h>

#include "mdbee/error.h"

#define MDB_KEY_SECRET_SIZE 32
#define MDB_ADDRESS_SIZE 20   /* Ethereum address: owner of SOCs and feeds */
#define MDB_SIGNATURE_SIZE 65 /* r || s || v */

/* Environment variable holding the keystore password when none is given. */
#define MDB_KEY_PASSWORD_ENV "MDBEE_KEY_PASSWORD"

/* Opaque; allocated in secure memory, freed with mdb_key_free. */
typedef struct mdb_key mdb_key;

/* Loads the key in the file at path: raw hex (optional 0x, surrounding
 * whitespace allowed) or a V3 keystore JSON, told apart by the first
 * non-blank character.  password decrypts a keystore; NULL means "take it
 * from $MDBEE_KEY_PASSWORD".  Errors: MDBEE_EIO (cannot read), MDBEE_ECONFIG
 * (the file is accessible by group or others: the message names the file
 * and its mode), MDBEE_EFORMAT (not a key or malformed keystore),
 * MDBEE_ECRYPTO (wrong password, missing password, invalid secret).  On
 * success the caller owns *out. */
int mdb_key_load_file(const char *path, const char *password, mdb_key **out,
                      mdb_error *err);

/* Decrypts a V3 keystore held in memory (json need not be NUL-terminated).
 * Untrusted input: KDF parameters are bounded (scrypt memory at most
 * 1 GiB, pbkdf2 at most 10^7 rounds) before any work is done.  Errors as
 * for mdb_key_load_file; a MAC mismatch (wrong password or corrupted file)
 * is MDBEE_ECRYPTO, and so is an "address" field that is not the address of
 * the decrypted key. */
int mdb_key_from_keystore(const char *json, size_t len, const char *password,
                          mdb_key **out, mdb_error *err);

/* Makes a key from a 32-byte big-endian secret (copied; the caller wipes
 * its own copy).  MDBEE_ECRYPTO when the secret is zero or >= the curve
 * order. */
int mdb_key_from_secret(const uint8_t secret[MDB_KEY_SECRET_SIZE],
                        mdb_key **out, mdb_error *err);

/* Makes a fresh random key from libsodium's generator. */
int mdb_key_generate(mdb_key **out, mdb_error *err);

/* Writes the secret as 64 hex digits and a newline to a new file at path
 * with mode 0600; refuses (MDBEE_EIO) to overwrite an existing file. */
int mdb_key_save_raw(const mdb_key *key, const char *path, mdb_error *err);

/* Copies the key's Ethereum address: the last 20 bytes of Keccak256 of the
 * 64-byte uncompressed public key (x || y). */
void mdb_key_address(const mdb_key *key, uint8_t address[MDB_ADDRESS_SIZE]);

/* Signs the Ethereum signed-message hash of digest.  The nonce is derived
 * deterministically as bee-js derives it (see key.c), so the same key and
 * digest always give the same signature, byte-equal to bee-js's. */
int mdb_key_sign(const mdb_key *key, const uint8_t digest[32],
                 uint8_t sig[MDB_SIGNATURE_SIZE], mdb_error *err);

/* Recovers the address that signed digest (as mdb_key_sign does) from an
 * untrusted signature.  v may be 27..30 (recovery id + 27).  MDBEE_EVERIFY
 * when the signature is malformed or recovers no key. */
int mdb_key_recover(const uint8_t digest[32],
                    const uint8_t sig[MDB_SIGNATURE_SIZE],
                    uint8_t address[MDB_ADDRESS_SIZE], mdb_error *err);

/* Derives a 32-byte secret for another use of the key: Keccak256 of the
 * NUL-terminated domain (its NUL included) then the private key, so that
 * each domain gets an independent value and none reveals the key.  The
 * caller must keep out secret (and wipe it when done). */
void mdb_key_derive(const mdb_key *key, const char *domain,
                    uint8_t out[MDB_KEY_SECRET_SIZE]);

/* Wipes and frees the key; NULL is ignored. */
void mdb_key_free(mdb_key *key);

#endif
