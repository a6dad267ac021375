#!/usr/bin/env bash
# The end-to-end example behind `make demo`: sample data → check → pseudonymise → check the
# delivery as the recipient does. Everything is written under demo-out/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=demo-out
rm -rf "$OUT" && mkdir -p "$OUT/gemeente" "$OUT/secrets"
chmod 700 "$OUT/secrets"
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

say "1. The contract both agencies agreed on"
run ketenx contract lint examples/contract.yaml
run ketenx contract digest examples/contract.yaml

say "2. The municipality exports 1,000 synthetic persons (and a damaged copy)"
run python examples/generate.py --rows 1000 --seed 42 -o "$OUT/gemeente/export.csv"
run python examples/generate.py --rows 1000 --seed 42 --invalid-rows 3,17,256 -o "$OUT/gemeente/damaged.csv"
head -4 "$OUT/gemeente/export.csv"

say "3. Check the clean export: exit 0"
run ketenx check "$OUT/gemeente/export.csv" --contract examples/contract.yaml

say "4. Check the damaged export: exit 1, and no value from the data in the report"
set +e
run ketenx check "$OUT/gemeente/damaged.csv" --contract examples/contract.yaml
echo "exit code: $?"
set -e
