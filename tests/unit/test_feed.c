#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mdbee/feed.h"
#include "support.h"

/* bee-js makeFeedIdentifier / getFeedUpdateChunkReference / Topic.fromString:
 * "update" owner topic index identifier address, "topic" name topic. */
static void test_matches_beejs(void **state) {
  (void)state;
  vec_file v;
  vec_open(&v, "feed.txt");
  size_t updates = 0, topics = 0;
  while (vec_next(&v)) {
    size_t n1, n2, n3, n4;
    if (strcmp(v.fields[0], "topic") == 0) {
      uint8_t *name = vec_bytes(&v, 1, &n1), *want = vec_bytes(&v, 2, &n2);
      uint8_t topic[32];
      mdb_feed_topic_from_string((char *)name, n1, topic);
      assert_memory_equal(topic, want, 32);
      free(name);
      free(want);
      topics++;
      continue;
    }
    uint8_t *owner = vec_bytes(&v, 1, &n1), *topic = vec_bytes(&v, 2, &n2);
    uint64_t index = strtoull(v.fields[3], NULL, 10);
    uint8_t *want_id = vec_bytes(&v, 4, &n3), *want_addr = vec_bytes(&v, 5, &n4);
    uint8_t id[32], addr[32];
    mdb_feed_identifier(topic, index, id);
    mdb_feed_update_address(owner, topic, index, addr);
    if (memcmp(id, want_id, 32) || memcmp(addr, want_addr, 32))
      fail_msg("feed update %llu differs from bee-js (line %zu)",
               (unsigned long long)index, v.lineno);
    free(owner);
    free(topic);
    free(want_id);
    free(want_addr);
    updates++;
  }
  vec_close(&v);
  assert_true(updates >= 30 && topics >= 5);
}

static void test_v1_round_trip(void **state) {
  (void)state;
  uint8_t secret[32] = {0x42}, topic[32], owner[20], ref[64], addr[32];
  mdb_feed_topic_from_string("mdbee", 5, topic);
  for (int i = 0; i < 64; i++) ref[i] = (uint8_t)i;
  mdb_key *key = NULL;
  mdb_error err = {0};
  assert_int_equal(mdb_key_from_secret(secret, &key, &err), MDBEE_OK);
  mdb_key_address(key, owner);
  for (size_t ref_len = 32; ref_len <= 64; ref_len += 32) {
    uint8_t soc[MDB_SOC_SIZE_MAX];
    size_t size;
    assert_int_equal(mdb_feed_update_make(key, topic, 7, 1700000000, ref,
                                          ref_len, soc, &size, addr, &err),
                     MDBEE_OK);
    uint8_t want[32];
    mdb_feed_update_address(owner, topic, 7, want);
    assert_memory_equal(addr, want, 32);
    assert_int_equal(size, MDB_SOC_HEADER_SIZE + 8 + 8 + ref_len);
    mdb_feed_update u;
    assert_int_equal(mdb_feed_update_parse(soc, size, owner, topic, 7, &u, &err), MDBEE_OK);
    assert_true(u.legacy);
    assert_int_equal(u.timestamp, 1700000000);
    assert_int_equal(u.reference_len, ref_len);
    assert_memory_equal(u.reference, ref, ref_len);
    /* The same bytes are not update 8, nor another owner's update 7. */
    assert_int_equal(mdb_feed_update_parse(soc, size, owner, topic, 8, &u, &err), MDBEE_EVERIFY);
    uint8_t other[20];
    memcpy(other, owner, 20);
    other[19] ^= 1;
    assert_int_equal(mdb_feed_update_parse(soc, size, other, topic, 7, &u, &err), MDBEE_EVERIFY);
  }
  assert_int_equal(mdb_feed_update_make(key, topic, 0, 0, ref, 33, NULL, NULL, addr, &err), MDBEE_EINVAL);
  mdb_key_free(key);
}

/* A v2 update wraps the content itself: the reference is the wrapped
 * chunk's address. */
static void test_v2_payload(void **state) {
  (void)state;
  uint8_t secret[32] = {0x43}, topic[32] = {1}, owner[20], id[32], addr[32];
  mdb_key *key = NULL;
  mdb_error err = {0};
  assert_int_equal(mdb_key_from_secret(secret, &key, &err), MDBEE_OK);
  mdb_key_address(key, owner);
  uint8_t chunk[8 + 11];
  mdb_bmt_span_encode(11, chunk);
  memcpy(chunk + 8, "hello world", 11);
  mdb_feed_identifier(topic, 3, id);
  uint8_t soc[MDB_SOC_SIZE_MAX];
  size_t size;
  assert_int_equal(mdb_soc_make(key, id, chunk, sizeof chunk, soc, &size, addr, &err), MDBEE_OK);
  mdb_feed_update u;
  assert_int_equal(mdb_feed_update_parse(soc, size, owner, topic, 3, &u, &err), MDBEE_OK);
  assert_false(u.legacy);
  uint8_t cac[32];
  mdb_bmt_chunk_address(11, chunk + 8, 11, cac);
  assert_int_equal(u.reference_len, 32);
  assert_memory_equal(u.reference, cac, 32);
  mdb_key_free(key);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_matches_beejs),
      cmocka_unit_test(test_v1_round_trip),
      cmocka_unit_test(test_v2_payload),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
