#!/usr/bin/env bash
# The body of action.yml. GitHub runs it under `bash -e`: every ketenx run below is guarded,
# so each requested report is written before the step ends with ketenx's worst exit code.
# Inputs come as INPUT_* variables (see action.yml); runnable outside GitHub for testing.
set -euo pipefail

fail() { echo "::error title=ketenx::$1"; exit "${2:-2}"; }

contract=${INPUT_CONTRACT:-}
[[ -n $contract ]] || fail "the input 'contract' is required"
[[ -n ${INPUT_FILES:-} ]] || fail "the input 'files' is required"
formats=${INPUT_FORMATS:-github sarif summary}
side=${INPUT_SIDE:-input}
fail_on=${INPUT_FAIL_ON:-rejected}
case $fail_on in rejected | never) ;; *) fail "fail-on must be 'rejected' or 'never'" ;; esac
for fmt in $formats; do
  case $fmt in github | sarif | junit | json | summary) ;; *) fail "unknown report format: $fmt" ;; esac
done

case ${INPUT_INSTALL:-action} in
  none) ;;
  action | *)
    venv="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/ketenx-venv"
    python3 -m venv "$venv"
    if [[ ${INPUT_INSTALL:-action} == action ]]; then
      "$venv/bin/pip" install --quiet "${GITHUB_ACTION_PATH:?}"
    else
      "$venv/bin/pip" install --quiet "$INPUT_INSTALL"
    fi
    PATH="$venv/bin:$PATH"
    ;;
esac
command -v ketenx >/dev/null || fail "ketenx is not installed (install: none needs it on PATH)" 3

# Expand the patterns (globstar for **); a pattern that matches nothing fails closed.
set -f
patterns=($INPUT_FILES)
set +f
((${#patterns[@]})) || fail "the input 'files' is required"
shopt -s nullglob globstar
files=()
for pattern in "${patterns[@]}"; do
  matched=($pattern)
  ((${#matched[@]})) || fail "no file matches the pattern $pattern"
  files+=("${matched[@]}")
done
shopt -u nullglob

worst=0
run_check() {
  local rc=0
  ketenx check "${files[@]}" --contract "$contract" --side "$side" "$@" || rc=$?
  if ((rc > worst)); then worst=$rc; fi
}

sarif_written=
for fmt in $formats; do
  case $fmt in
    github) run_check --format github ;;
    sarif) run_check --format sarif --output "${INPUT_SARIF_FILE:-ketenx.sarif}"
      [[ -f ${INPUT_SARIF_FILE:-ketenx.sarif} ]] && sarif_written=${INPUT_SARIF_FILE:-ketenx.sarif} ;;
    junit) run_check --format junit --output "${INPUT_JUNIT_FILE:-ketenx-junit.xml}" ;;
    json) run_check --format json --output "${INPUT_JSON_FILE:-ketenx-report.json}" ;;
    summary)
      [[ -n ${GITHUB_STEP_SUMMARY:-} ]] || continue
      report=$(mktemp)
      run_check --format text --output "$report"
      { echo "### ketenx check"; echo; echo '```'; cat "$report"; echo '```'; } >>"$GITHUB_STEP_SUMMARY"
      rm -f "$report" ;;
  esac
done

if [[ -n ${GITHUB_OUTPUT:-} ]]; then
  { echo "exit-code=$worst"; echo "sarif-file=$sarif_written"; } >>"$GITHUB_OUTPUT"
fi
if ((worst == 1)) && [[ $fail_on == never ]]; then
  echo "::warning title=ketenx::data rejected (fail-on: never lets the step pass)"
  exit 0
fi
exit "$worst"
