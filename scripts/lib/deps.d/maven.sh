# The MongoDB test peer's jars (mongo-java-server and its H2 backend, see
# tests/peers/mongo/pom.xml), fetched from Maven Central into the cache.
# Sourced by mdbee_install_deps and by tests/peers/mongo/launch.  A stamp
# named after the pom's checksum makes it a no-op once done, and makes an
# edited pom fetch again.

mdbee_mongo_peer_pom="$MDBEE_ROOT/tests/peers/mongo/pom.xml"
MDBEE_MONGO_PEER_LIB="$MDBEE_CACHE/maven/mongo-peer-$(sha256sum "$mdbee_mongo_peer_pom" | cut -c1-16)"

mdbee_install_mongo_peer() {
  [ -f "$MDBEE_MONGO_PEER_LIB/.complete" ] && return 0
  mdbee_log "fetching mongo-java-server jars into $MDBEE_MONGO_PEER_LIB"
  local tmp="$MDBEE_MONGO_PEER_LIB.tmp.$$"
  rm -rf "$tmp"
  # Maven's local repository also lives in the cache, so ~/.m2 is untouched
  # and a second project checkout reuses the downloads.
  if ! mvn -q -B -Dstyle.color=never -f "$mdbee_mongo_peer_pom" \
      -Dmaven.repo.local="$MDBEE_CACHE/maven/repository" \
      dependency:copy-dependencies -DoutputDirectory="$tmp" >&2; then
    rm -rf "$tmp"
    mdbee_log "mvn could not fetch the mongo-java-server jars"
    return 1
  fi
  touch "$tmp/.complete"
  rm -rf "$MDBEE_MONGO_PEER_LIB"
  mv "$tmp" "$MDBEE_MONGO_PEER_LIB"
}

mdbee_install_mongo_peer
