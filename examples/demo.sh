#!/usr/bin/env bash
# The example exchange behind `make demo`, between two fictitious agencies:
# Gemeente Voorbeeldstad (sender) and GGD Voorbeeldregio (recipient).
#   sample data → check → the risk gate refuses a contract too fine for the data →
#   pseudonymise → check the delivery → pack (sign + encrypt) → unpack at the recipient →
#   a tampered delivery is refused → no identifiers in kept fields.
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

say "2. The municipality exports 1,000 synthetic persons living in it (and a damaged copy)"
run python examples/generate.py --rows 1000 --seed 42 --gemeente Gouda -o "$OUT/gemeente/export/export.csv"
run python examples/generate.py --rows 1000 --seed 42 --gemeente Gouda --invalid-rows 3,17,256 -o "$OUT/gemeente/export/damaged.csv"
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

say "5. The risk gate: a contract that generalises birth dates only to the year is refused"
# The same contract, one step finer: birth year instead of five-year age bands.
sed -e 's/to: age-band, band_width: 5, reference_date: "2026-01-01",/to: year,/' \
    -e 's/^                   as: leeftijdsgroep}/}/' "$C" > "$OUT/contract-year.yaml"
grep -n 'geboortedatum:  {treatment' "$OUT/contract-year.yaml"
refused ketenx pseudonymise "$OUT/gemeente/export/export.csv" --contract "$OUT/contract-year.yaml" \
    --secret "$OUT/gemeente/keys/pseudonymisation.secret" --output "$OUT/gemeente/out/too-fine.csv"
test ! -e "$OUT/gemeente/out/too-fine.csv" && echo "(nothing was written)"
# Which quasi-identifier to generalise further: the smallest class with each one left out.
refused ketenx risk "$OUT/gemeente/export/export.csv" --contract "$OUT/contract-year.yaml"

say "6. The agreed contract generalises one step further (five-year age bands): accepted"
run ketenx risk "$OUT/gemeente/export/export.csv" --contract "$C"
run ketenx pseudonymise "$OUT/gemeente/export/export.csv" --contract "$C" \
    --secret "$OUT/gemeente/keys/pseudonymisation.secret" --output "$OUT/gemeente/out/delivery.csv"
head -4 "$OUT/gemeente/out/delivery.csv"
python3 -c 'import json, sys; print("privacy in the metadata:", json.dumps(json.load(open(sys.argv[1]))["privacy"]))' \
    "$OUT/gemeente/out/delivery.csv.meta.json"
# The GGD checks the delivery, and re-measures it against the same contract.
run ketenx check "$OUT/gemeente/out/delivery.csv" --contract "$C" --side output

say "7. The whole exchange in two commands: pack at the municipality, unpack at the GGD"
run ketenx pack "$OUT/gemeente/export/export.csv" --contract "$C" \
    --secret "$OUT/gemeente/keys/pseudonymisation.secret" --key "$OUT/gemeente/keys/gemeente.key" \
    --partners "$OUT/partners.yaml" --output "$OUT/gemeente/out/delivery.ketenx"
run ketenx unpack "$OUT/gemeente/out/delivery.ketenx" --contract "$C" \
    --partners "$OUT/partners.yaml" --identity "$OUT/ggd/keys/ggd.age" --output "$OUT/ggd/inbox"
head -3 "$OUT/ggd/inbox/data.csv"

say "8. A delivery tampered with on the way is refused, and nothing is written"
python - "$OUT/gemeente/out/delivery.ketenx" "$OUT/tampered.ketenx" <<'PY'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
data[len(data) // 2] ^= 0x01          # flip one bit in the middle of the ciphertext
open(sys.argv[2], "wb").write(data)
PY
refused ketenx unpack "$OUT/tampered.ketenx" --contract "$C" \
    --partners "$OUT/partners.yaml" --identity "$OUT/ggd/keys/ggd.age" --output "$OUT/ggd/tampered"
say "9. No identifiers in the fields the contract keeps (pseudonymise and pack scan them too)"
run ketenx scan "$OUT/gemeente/export/export.csv" --contract "$C"
printf '\n\033[1mDemo complete.\033[0m Files are in %s/.\n' "$OUT"
