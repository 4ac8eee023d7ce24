/* libFuzzer target: untrusted single owner chunk bytes, as a gateway could
 * serve them for a SOC or a feed update.  Parsing must never read out of
 * bounds, and whatever parses must verify at the address it derives. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mdbee/feed.h"
#include "mdbee/soc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  mdb_error err = {0};
  mdb_soc soc;
  if (mdb_soc_parse(data, size, &soc, &err) != MDBEE_OK) return 0;
  if (mdb_soc_verify(data, size, soc.address, soc.owner, NULL, &err) !=
      MDBEE_OK)
    __builtin_trap(); /* parse and verify disagree */
  /* The same bytes read as update 0 of the topic that would have produced
   * their identifier (never equal by chance): must be refused cleanly. */
  mdb_feed_update update;
  uint8_t topic[MDB_FEED_TOPIC_SIZE];
  memcpy(topic, soc.id, sizeof topic);
  if (mdb_feed_update_parse(data, size, soc.owner, topic, 0, &update, &err) ==
      MDBEE_OK) {
    uint8_t id[MDB_SOC_ID_SIZE];
    mdb_feed_identifier(topic, 0, id);
    if (memcmp(id, soc.id, sizeof id) != 0) __builtin_trap();
  }
  return 0;
}
