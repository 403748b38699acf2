# shellcheck shell=bash
# The stage runner every recipe sources: numbered stages (ESPnet style), each logged to
# exp/<recipe>/logs/stageN.log and skipped when its outputs are newer than its inputs.
#
# A recipe's run.sh:
#
#   recipe=allison                 # names exp/<recipe>/
#   steps=300                      # options: every variable set here may be given as --steps 500
#   . "$(dirname "$0")/../common/stages.sh"
#   parse_options "$@"
#   stage_0() { ... }              # the work of stage 0 (runs in a subshell, stdout+stderr logged)
#   run_stage 0 "Download data" --in conf/data.yaml --out exp/allison/data/metadata.csv -- stage_0
#   finish_recipe
#
# Options every recipe understands: --stage N (first stage, default 0), --stop-stage M (last,
# default 100), --force true (rerun stages in range even when up to date).
# A stage that fails stops the run (set -euo pipefail) and names its log; one that finishes adds its
# time to exp/<recipe>/stages.tsv (benchmarks/main_job.py says where a run's minutes went).
#
# A stage that needs nothing the next ones make may run beside them (run_stage_beside, then
# wait_beside where its outputs are needed): in the background, at the lowest CPU priority.

set -euo pipefail

stage=${stage:-0}
stop_stage=${stop_stage:-100}
force=${force:-false}

# RECIPE_DIR: the recipe's own folder (conf/, local/); REPO_ROOT: the toolkit checkout;
# WORK_ROOT: where the recipe runs and writes exp/<recipe>/ (the checkout unless TTS_ADAPT_WORK
# says otherwise). Paths in stages are relative to WORK_ROOT.
CALLER_DIR=$PWD
RECIPE_DIR=$(cd "$(dirname "${BASH_SOURCE[1]:-$0}")" && pwd)
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WORK_ROOT=$(mkdir -p "${TTS_ADAPT_WORK:-$REPO_ROOT}" && cd "${TTS_ADAPT_WORK:-$REPO_ROOT}" && pwd)
cd "$WORK_ROOT"
_RECIPE_START=$SECONDS

# --name value / --name=value sets the variable "name" (dashes become underscores); only
# variables the recipe defined beforehand are options, so a typo is an error, not a silent no-op.
parse_options() {
  while (($#)); do
    case "$1" in
      -h|--help)
        sed -n '2,/^$/s/^# \{0,1\}//p' "$RECIPE_DIR/run.sh"
        exit 0 ;;
      --*=*) _set_option "${1%%=*}" "${1#*=}"; shift ;;
      --*)
        (($# >= 2)) || { echo "$(basename "$RECIPE_DIR"): option $1 needs a value" >&2; exit 2; }
        _set_option "$1" "$2"; shift 2 ;;
      *) echo "$(basename "$RECIPE_DIR"): unexpected argument '$1' (options are --name value)" >&2; exit 2 ;;
    esac
  done
  [[ "$stage" =~ ^[0-9]+$ && "$stop_stage" =~ ^[0-9]+$ ]] \
    || { echo "--stage and --stop-stage take stage numbers" >&2; exit 2; }
  # --recipe names exp/<recipe>/, which stages clear and rewrite: '..' or a path would aim them at
  # the folder the recipe runs in (a stage's fresh_dir "$exp/symbols" deleted ./symbols).
  [[ "${recipe-x}" =~ ^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$ ]] \
    || { echo "--recipe takes a plain name (letters, digits, '.', '_', '-'; it names exp/<recipe>/), got '$recipe'" >&2
         exit 2; }
}

_set_option() {
  local name=${1#--}
  name=${name//-/_}
  if [[ ! "$name" =~ ^[a-z_][a-z0-9_]*$ ]] || ! declare -p "$name" >/dev/null 2>&1; then
    echo "$(basename "$RECIPE_DIR"): unknown option --${1#--}" >&2
    exit 2
  fi
  printf -v "$name" '%s' "$2"
}

# abs_path PATH: a path option as the user meant it, relative to where the recipe was started.
abs_path() {
  if [[ -z "$1" || "$1" == /* ]]; then echo "$1"; else echo "$CALLER_DIR/$1"; fi
}

# A digest of every file under the given folders (names and bytes): a stage that reads audio
# passes it to --sig, so added, removed or re-recorded files rerun the stage even when their
# modification times say otherwise (cp -p, rsync -t, tar).
content_signature() {
  local folder
  for folder in "$@"; do
    [[ -d "$folder" ]] || continue
    (cd "$folder" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
  done | sha256sum | cut -c1-16
}

# Seconds as "1h02m03s" / "2m05s" / "7s".
format_seconds() {
  local s=$1
  if ((s >= 3600)); then printf '%dh%02dm%02ds' $((s / 3600)) $((s % 3600 / 60)) $((s % 60))
  elif ((s >= 60)); then printf '%dm%02ds' $((s / 60)) $((s % 60))
  else printf '%ds' "$s"; fi
}

# A progress line: "[recipe 1m02s] message" on stderr (never mixed into a stage's data).
say() {
  printf '[%s %s] %s\n' "${recipe:-recipe}" "$(format_seconds $((SECONDS - _RECIPE_START)))" "$*" >&2
}

# up_to_date OUT... -- IN...
# True when every OUT exists and no IN (files inside IN directories included) is newer than
# the oldest OUT file. Directories among the OUTs only need to exist; a missing IN means the
# stage that makes it has not run, so nothing is up to date.
up_to_date() {
  local outs=() ins=() seen_sep=false arg
  for arg in "$@"; do
    if [[ "$arg" == "--" && $seen_sep == false ]]; then seen_sep=true
    elif $seen_sep; then ins+=("$arg")
    else outs+=("$arg"); fi
  done
  ((${#outs[@]})) || return 1
  local oldest="" out
  for out in "${outs[@]}"; do
    [[ -e "$out" ]] || return 1
    if [[ -f "$out" ]] && { [[ -z "$oldest" ]] || [[ "$out" -ot "$oldest" ]]; }; then
      oldest=$out
    fi
  done
  ((${#ins[@]})) || return 0
  local input
  for input in "${ins[@]}"; do
    [[ -e "$input" ]] || return 1
  done
  [[ -n "$oldest" ]] || return 0
  [[ -z "$(find -L "${ins[@]}" -newer "$oldest" -print -quit 2>/dev/null)" ]]
}

# run_stage N "title" [--in PATH]... [--out PATH]... [--sig TEXT] -- COMMAND [ARGS...]
# Runs COMMAND when N is in [--stage, --stop-stage] and the stage is not up to date: its stamp
# exp/<recipe>/stamps/stageN.done (written on success, holding --sig) is missing, older than an
# --in, or holds another --sig (e.g. a changed --steps), or an --out is missing.
run_stage() {
  local n=$1 title=$2
  shift 2
  local ins=() outs=() sig=""
  while (($#)) && [[ "$1" != "--" ]]; do
    case "$1" in
      --in) ins+=("$2"); shift 2 ;;
      --out) outs+=("$2"); shift 2 ;;
      --sig) sig=$2; shift 2 ;;
      *) echo "run_stage $n: unknown argument $1" >&2; return 2 ;;
    esac
  done
  [[ "${1:-}" == "--" ]] || { echo "run_stage $n: missing '-- COMMAND'" >&2; return 2; }
  shift
  ((n >= stage && n <= stop_stage)) || return 0

  local exp_dir="exp/$recipe"
  local stamp="$exp_dir/stamps/stage$n.done" log="$exp_dir/logs/stage$n.log"
  mkdir -p "$exp_dir/stamps" "$exp_dir/logs"
  if [[ "$force" != true ]] && up_to_date "$stamp" "${outs[@]}" -- "${ins[@]}" \
     && [[ "$(cat "$stamp")" == "$sig" ]]; then
    say "stage $n: $title - up to date, skipped"
    return 0
  fi

  rm -f "$stamp"
  say "stage $n: $title (${_BESIDE:+beside the next stages, at the lowest priority; }log: $log)"
  local started=$SECONDS started_us=${EPOCHREALTIME/[.,]/} status took cpu_file="$exp_dir/logs/.stage$n.cpu"
  # Not "|| status=$?": bash ignores set -e inside anything run on the left of ||, so a failing
  # command in the middle of a stage would go unnoticed. The subshell turns -e back on itself.
  # A stage beside others writes only its log: its lines would cut into theirs.
  set +e
  (
    set -e
    printf '# stage %s: %s\n# started %s\n# command: %s\n' "$n" "$title" "$(date -u +%FT%TZ)" "$*"
    "$@"
    _stage_cpu_ms > "$cpu_file"
  ) 2>&1 | if [[ -n "${_BESIDE:-}" ]]; then cat > "$log"; else tee "$log"; fi
  status=${PIPESTATUS[0]}
  set -e
  took=$(format_seconds $((SECONDS - started)))
  if ((status != 0)); then
    say "stage $n: FAILED after $took (exit $status); see $log"
    exit "$status"
  fi
  printf '%s' "$sig" > "$stamp"
  local cpu_ms=0
  if [[ -s "$cpu_file" ]]; then cpu_ms=$(< "$cpu_file"); fi  # none when the stage exit-ed early, successfully
  rm -f "$cpu_file"
  _record_stage_time "$exp_dir/stages.tsv" "$n" $((${EPOCHREALTIME/[.,]/} - started_us)) "$cpu_ms" "$title"
  say "stage $n: done in $took"
}

# _record_stage_time FILE N MICROSECONDS CPU_MILLISECONDS TITLE: one line per finished stage (a rerun adds
# another; the last counts): wall and CPU seconds (user + system, every process of the stage), and the
# machine's 1-minute load average when it ended. On a busy machine the wall time says more about the
# other work than about the stage; the CPU time much less. "beside": yes for a stage that ran beside the
# others (its wall time overlaps theirs).
_record_stage_time() {
  local load=-
  [[ -r /proc/loadavg ]] && read -r load _ < /proc/loadavg
  [[ -s "$1" ]] || printf 'stage\tseconds\tcpu_seconds\tfinished\tload\ttitle\tbeside\n' > "$1"
  printf '%s\t%d.%d\t%d.%d\t%s\t%s\t%s\t%s\n' "$2" $(($3 / 1000000)) $(($3 % 1000000 / 100000)) \
    $(($4 / 1000)) $(($4 % 1000 / 100)) "$(date -u +%FT%TZ)" "$load" "$5" "${_BESIDE:+yes}" >> "$1"
}

# CPU milliseconds (user + system) of the stage: its subshell's own and its finished children's (fields
# 14-17 of Linux's /proc/<pid>/stat, in clock ticks), read by the subshell itself as it ends. Not the recipe
# shell's children's: bash reaps a stage beside whenever it ends, and its CPU went to the stage in front.
_stage_cpu_ms() {
  local stat
  read -r -a stat < "/proc/$BASHPID/stat"
  echo $(((stat[13] + stat[14] + stat[15] + stat[16]) * 1000 / _CLK_TCK))
}
_CLK_TCK=$(getconf CLK_TCK)

# run_stage_beside N "title" [run_stage's options] -- COMMAND [ARGS...]
# run_stage in the background, at the lowest CPU priority, while the recipe goes on with the stages after
# it: for a stage that needs nothing they make. The training step keeps about 1.7 of 2 cores busy (it
# waits on itself between kernels); a stage beside it runs on what is left and gives the core back the
# moment training wants it: Linux's SCHED_IDLE policy (chrt), where a waking training thread takes
# the core at once (at nice 19 it could wait a few milliseconds, many times a step). Its log is written,
# not shown; one stage beside at a time. Call wait_beside before the first stage that reads its outputs;
# a recipe that ends, or fails, first stops it.
run_stage_beside() {
  local n=$1
  ((n >= stage && n <= stop_stage)) || return 0
  wait_beside
  # Its own process group (job control on for this one fork), so that stopping it reaches every process
  # under it at once, one started a moment ago included; and Ctrl-C, sent to the terminal's group, goes
  # to the recipe, whose exit stops it.
  set -m
  (
    set +m
    renice -n 19 -p "$BASHPID" >/dev/null
    chrt --idle -p 0 "$BASHPID" 2>/dev/null || true  # without chrt (util-linux), nice 19 alone
    _BESIDE=1 run_stage "$@"
  ) &
  _BESIDE_PID=$! _BESIDE_STAGE=$n
  set +m
  trap _stop_beside EXIT
}

# wait_beside: waits for the stage started by run_stage_beside (saying so when it is still running), and
# stops the recipe when it failed.
wait_beside() {
  [[ -n "${_BESIDE_PID:-}" ]] || return 0
  local status=0
  if kill -0 "$_BESIDE_PID" 2>/dev/null; then say "waiting for stage $_BESIDE_STAGE (beside)"; fi
  wait "$_BESIDE_PID" || status=$?
  _BESIDE_PID=""
  ((status == 0)) || exit "$status"
}

# Ends a stage still running beside (the recipe failed or was interrupted before it waited), every
# process under it included: nothing keeps running after the recipe has gone. One signal to its process
# group: walking its tree child by child missed a process forked between the listing and the kill.
_stop_beside() {
  [[ -n "${_BESIDE_PID:-}" ]] || return 0
  kill -TERM -- "-$_BESIDE_PID" 2>/dev/null || true
  wait "$_BESIDE_PID" 2>/dev/null || true
}

# The last line of a run: how long it took in all.
finish_recipe() {
  wait_beside
  local last=$stop_stage
  ((stop_stage < 100)) || last=end
  say "finished stages $stage..$last in $(format_seconds $((SECONDS - _RECIPE_START)))"
}

# fresh_dir DIR: stages rerun from scratch, and every tts-adapt command wants a new output directory.
fresh_dir() {
  if [[ -e "$1" ]]; then
    echo "removing the previous $1"
    rm -rf -- "$1"
  fi
  mkdir -p "$(dirname "$1")"
}
