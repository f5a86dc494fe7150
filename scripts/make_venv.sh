#!/usr/bin/env bash
# Creates the virtualenv with the project's Python (pyenv's when present, else python3.X on PATH).
set -euo pipefail
venv=$1 version=$2
minor=${version%.*}
if [ -x "$HOME/.pyenv/versions/$version/bin/python" ]; then
  python="$HOME/.pyenv/versions/$version/bin/python"
elif command -v pyenv >/dev/null && pyenv prefix "$version" >/dev/null 2>&1; then
  python="$(pyenv prefix "$version")/bin/python"
elif command -v "python$minor" >/dev/null; then
  python="python$minor"
else
  echo "Python $minor is needed: install it with 'pyenv install $version' (or your OS packages) and retry." >&2
  exit 1
fi
"$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --upgrade "pip==24.2" "setuptools<75" wheel
