# Sourced by scripts/*: make .venv exist and match pyproject.toml (and deploy/requirements.txt), quietly.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${MYCLOTHES_VENV:-$ROOT/.venv}"
PYTHON_BIN="${PYTHON:-python3}"

ensure_venv() {  # ensure_venv EXTRAS...   e.g. ensure_venv dev deploy
  local extras="${*:-}" wanted stamp
  wanted="$(cat "$ROOT/pyproject.toml" "$ROOT"/deploy/requirements.txt 2>/dev/null | sha256sum | cut -c1-16)-${extras// /,}"
  stamp="$VENV/.myclothes-stamp"
  if [[ -x "$VENV/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$wanted"* ]]; then
    return 0
  fi
  if [[ ! -x "$VENV/bin/python" ]]; then
    echo "creating virtualenv in $VENV" >&2
    "$PYTHON_BIN" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip >&2
  fi
  local spec="$ROOT"
  if [[ " $extras " == *" dev "* ]]; then spec="$ROOT[dev]"; fi
  echo "installing MyClothes and its dependencies into $VENV" >&2
  "$VENV/bin/python" -m pip install -q -e "$spec" >&2
  if [[ " $extras " == *" deploy "* && -f "$ROOT/deploy/requirements.txt" ]]; then
    echo "installing the deploy toolchain (aws-cdk-lib, cfn-lint, kubernetes-validate)" >&2
    "$VENV/bin/python" -m pip install -q -r "$ROOT/deploy/requirements.txt" >&2
  fi
  echo "$wanted" > "$stamp"
}
