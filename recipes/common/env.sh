# shellcheck shell=bash
# Bootstrap for a fresh machine, sourced by a recipe after stages.sh:
#
#   ensure_debian_packages flite espeak-ng     # installs as root, else prints the sudo line and stops
#   ensure_venv                                # creates/reuses $REPO_ROOT/.venv with the toolkit installed
#
# After ensure_venv, "tts-adapt" and "python" on PATH are the venv's.

_APT_UPDATED=false

# ensure_debian_packages PKG...: the missing ones are installed with apt-get when running as root
# (after one "apt-get update"); otherwise the exact command to run is printed and the recipe stops.
ensure_debian_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0
  if ! command -v apt-get >/dev/null; then
    say "this recipe needs the Debian packages: ${missing[*]} (no apt-get here: install their equivalents)"
    exit 1
  fi
  if ((EUID != 0)); then
    say "this recipe needs Debian packages that are not installed; run:"
    echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
  say "installing Debian packages: ${missing[*]}"
  if [[ $_APT_UPDATED == false ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -q
    _APT_UPDATED=true
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# ensure_venv: reuse $REPO_ROOT/.venv when it has tts-adapt and every dependency pyproject.toml
# lists, else create it (python3 -m venv) and install the toolkit (editable) into it.
# Puts the venv first on PATH either way.
ensure_venv() {
  local venv="$REPO_ROOT/.venv" missing=""
  if [[ -x "$venv/bin/tts-adapt" ]]; then
    missing=$("$venv/bin/python" "$REPO_ROOT/recipes/common/missing_dependencies.py" "$REPO_ROOT/pyproject.toml")
    [[ -z "$missing" ]] || say "$venv lacks $(echo "$missing" | tr '\n' ' ')- installing"
  fi
  if [[ ! -x "$venv/bin/tts-adapt" || -n "$missing" ]]; then
    command -v python3 >/dev/null || { say "python3 is missing: apt-get install python3 python3-venv"; exit 1; }
    if [[ ! -x "$venv/bin/python" ]]; then
      python3 -c 'import ensurepip' 2>/dev/null || ensure_debian_packages python3-venv
      say "creating $venv"
      python3 -m venv "$venv" || {
        say "python3 -m venv failed; install it: sudo apt-get install -y python3-venv"; exit 1; }
    fi
    say "installing tts-adapt and its dependencies into $venv (first run only)"
    "$venv/bin/python" -m pip install -q --upgrade pip
    "$venv/bin/python" -m pip install -q -e "$REPO_ROOT"
  fi
  export PATH="$venv/bin:$PATH"
  export VIRTUAL_ENV="$venv"
  # TensorFlow's start-up chatter would bury the recipe's progress lines.
  export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2}
  export PYTHONUNBUFFERED=1
}
