#!/usr/bin/env bash
# The example exchange behind `make demo`, between two fictitious agencies:
# Gemeente Voorbeeldstad (sender) and GGD Voorbeeldregio (recipient).
#   sample data → check → pseudonymise → check the delivery → pack (sign + encrypt)
#   → unpack at the recipient → a tampered delivery is refused.
# Everything is written under demo-out/ (git-ignored). Secrets live in folders of mode 0700
# apart from the data; the demo signing key's passphrase comes from KETENX_PASSPHRASE.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=demo-out
C=examples/contract.yaml
rm -rf "$OUT"
mkdir -p "$OUT/gemeente/export" "$OUT/gemeente/out" "$OUT/ggd/inbox"
mkdir -m 700 "$OUT/gemeente/keys" "$OUT/ggd/keys"
export KETENX_PASSPHRASE="demo passphrase, never use in production"
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
refused() { printf '$ %s\n' "$*"; if "$@"; then echo "!! expected a refusal"; exit 1; else echo "(exit code $?)"; fi; }

say "1. The contract both agencies agreed on"
run ketenx contract lint "$C"
run ketenx contract digest "$C"

say "2. The municipality exports 1,000 synthetic persons (and a damaged copy)"
run python examples/generate.py --rows 1000 --seed 42 -o "$OUT/gemeente/export/export.csv"
run python examples/generate.py --rows 1000 --seed 42 --invalid-rows 3,17,256 -o "$OUT/gemeente/export/damaged.csv"
head -4 "$OUT/gemeente/export/export.csv"

say "3. Check the clean export (exit 0) and the damaged one (exit 1; no value from the data)"
run ketenx check "$OUT/gemeente/export/export.csv" --contract "$C"
refused ketenx check "$OUT/gemeente/export/damaged.csv" --contract "$C"

say "4. Keys: a pseudonymisation secret and a signing key (sender), an age identity (recipient)"
run ketenx keys new-secret "$OUT/gemeente/keys/pseudonymisation.secret"
run ketenx keys new-signing "$OUT/gemeente/keys/gemeente"
run ketenx keys new-identity "$OUT/ggd/keys/ggd"
cat > "$OUT/partners.yaml" <<YAML
ketenx: 1
partners:
  - name: Gemeente Voorbeeldstad
    oin: "00000001001234567000"
    signing_keys:
      - public_key_file: gemeente/keys/gemeente.pub
        valid_from: 2026-01-01
  - name: GGD Voorbeeldregio
    oin: "00000001009876543000"
    age_recipients: [$(cat "$OUT/ggd/keys/ggd.age.pub")]
YAML
run ketenx partners lint "$OUT/partners.yaml"

say "5. Pseudonymise and minimise for the GGD, then check the delivery as the GGD will"
run ketenx pseudonymise "$OUT/gemeente/export/export.csv" --contract "$C" \
    --secret "$OUT/gemeente/keys/pseudonymisation.secret" --output "$OUT/gemeente/out/delivery.csv"
head -4 "$OUT/gemeente/out/delivery.csv"
run ketenx check "$OUT/gemeente/out/delivery.csv" --contract "$C" --side output

say "6. The whole exchange in two commands: pack at the municipality, unpack at the GGD"
run ketenx pack "$OUT/gemeente/export/export.csv" --contract "$C" \
    --secret "$OUT/gemeente/keys/pseudonymisation.secret" --key "$OUT/gemeente/keys/gemeente.key" \
    --partners "$OUT/partners.yaml" --output "$OUT/gemeente/out/delivery.ketenx"
run ketenx unpack "$OUT/gemeente/out/delivery.ketenx" --contract "$C" \
    --partners "$OUT/partners.yaml" --identity "$OUT/ggd/keys/ggd.age" --output "$OUT/ggd/inbox"
head -3 "$OUT/ggd/inbox/data.csv"

say "7. A delivery tampered with on the way is refused, and nothing is written"
python - "$OUT/gemeente/out/delivery.ketenx" "$OUT/tampered.ketenx" <<'PY'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
data[len(data) // 2] ^= 0x01          # flip one bit in the middle of the ciphertext
open(sys.argv[2], "wb").write(data)
PY
refused ketenx unpack "$OUT/tampered.ketenx" --contract "$C" \
    --partners "$OUT/partners.yaml" --identity "$OUT/ggd/keys/ggd.age" --output "$OUT/ggd/tampered"
say "8. Privacy gates: no identifiers in kept fields; the re-identification risk, measured"
run ketenx scan "$OUT/gemeente/export/export.csv" --contract "$C"
# Year-month, PC4 and sex leave almost every synthetic person unique: k = 5 is not met.
refused ketenx risk "$OUT/gemeente/export/export.csv" --contract "$C"
printf '\n\033[1mDemo complete.\033[0m Files are in %s/.\n' "$OUT"
