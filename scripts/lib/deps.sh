# Installs what mdbee's build, tests and demo need on a fresh Debian machine.
# Sourced by scripts/test, scripts/demo and scripts/peers; each step is a
# no-op when its work is already done, so repeated runs are fast.

MDBEE_ROOT=${MDBEE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
# Caches live outside the repository so that a fresh clone reuses them.
MDBEE_CACHE=${MDBEE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mdbee}

MDBEE_APT_PACKAGES="meson ninja-build pkg-config gcc clang libclang-rt-14-dev \
libmongoc-dev libbson-dev libcurl4-openssl-dev libsecp256k1-dev libsodium-dev \
libyaml-dev liblmdb-dev nettle-dev libmicrohttpd-dev libcmocka-dev curl jq \
nodejs npm default-jdk-headless maven"

mdbee_log() { printf '[mdbee] %s\n' "$*" >&2; }

mdbee_install_apt() {
  local missing=()
  for p in $MDBEE_APT_PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  # The machine image may ship node, java and maven outside Debian's packages.
  local filtered=()
  for p in "${missing[@]}"; do
    case "$p" in
      nodejs|npm) command -v node >/dev/null && command -v npm >/dev/null && continue ;;
      default-jdk-headless) command -v java >/dev/null && command -v javac >/dev/null && continue ;;
      maven) command -v mvn >/dev/null && continue ;;
    esac
    filtered+=("$p")
  done
  [ ${#filtered[@]} -eq 0 ] && return 0
  mdbee_log "installing Debian packages: ${filtered[*]}"
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${filtered[@]}" >/dev/null
}

# npm packages for the test peers and the bee-js reference, installed from
# the committed lock file; npm's own cache (~/.npm) keeps the tarballs.
mdbee_install_npm() {
  local dir="$MDBEE_ROOT/tests/node"
  if [ -f "$dir/node_modules/.package-lock.json" ] &&
     cmp -s "$dir/package-lock.json" "$dir/node_modules/.mdbee-lock" 2>/dev/null; then
    return 0
  fi
  mdbee_log "installing npm packages in tests/node"
  (cd "$dir" && npm ci --no-audit --no-fund --prefer-offline --loglevel=error >/dev/null) &&
    cp "$dir/package-lock.json" "$dir/node_modules/.mdbee-lock"
}

mdbee_install_deps() {
  mdbee_install_apt && mdbee_install_npm && {
    # Optional steps that other modules register (e.g. Maven artifacts).
    local hook
    for hook in "$MDBEE_ROOT"/scripts/lib/deps.d/*.sh; do
      [ -f "$hook" ] || continue
      . "$hook" || return 1
    done
  }
}
