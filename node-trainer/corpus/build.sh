#!/usr/bin/env bash
# Builds vidkind's training corpus from real media in Debian packages.
#   node-trainer/corpus/build.sh --out <dir> [--quick] [--per-class N] [--no-install] [...]
# Installs the packages listed in packages.txt with apt (as root), then runs build.ts. Resumable:
# clips that exist are kept. See README.md beside this file.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
install=1
args=()
for a in "$@"; do
  if [[ "$a" == "--no-install" ]]; then install=0; else args+=("$a"); fi
done

# Sources reserved for evaluation (shared/FACTS.md): never installed, never read.
reserved='^(opencv-doc|renpy-demo|python-kivy-examples|mate-backgrounds|python3-skimage.*|scikit-image.*|freedoom|chocolate-doom|beneath-a-steel-sky|flight-of-the-amazon-queen|synfig-examples|gcompris-qt-data|gnome-user-docs|texlive-latex-recommended-doc|gnumeric-doc|kicad-doc-.*)$'
mapfile -t packages < <(grep -v '^\s*#' "$here/packages.txt" | sed '/^\s*$/d')
for p in "${packages[@]}"; do
  if [[ "$p" =~ $reserved ]]; then
    echo "build.sh: refusing $p: reserved for evaluation" >&2
    exit 2
  fi
done

if [[ $install -eq 1 ]]; then
  missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [[ ${#missing[@]} -gt 0 ]]; then
    echo "build.sh: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi

# freeciv's client refuses to run as root: captures that need it run as this unprivileged user
# (capture.ts CAPTURE_USER), created once.
if [[ $(id -u) -eq 0 ]] && ! id vidkind-capture >/dev/null 2>&1; then
  useradd --system --no-create-home --shell /usr/sbin/nologin vidkind-capture
fi

tsx="$here/../../node_modules/.bin/tsx"
[[ -x "$tsx" ]] || tsx="$here/../node_modules/.bin/tsx"
exec nice -n 10 "$tsx" "$here/build.ts" "${args[@]}"
