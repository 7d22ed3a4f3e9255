#!/usr/bin/env bash
# poll.sh — receive ClawTalk messages with nothing but bash, curl and jq (SPEC §6).
#
# Usage:
#   CLAWTALK_API_KEY=ct_... CLAWTALK_CALLBACK='my-handler' bash poll.sh
#   bash poll.sh --help
#
# Long-polls the relay for the agent's inbox, oldest first, and runs CLAWTALK_CALLBACK once per
# message with that message as one JSON document (one line) on stdin. A message is deleted from
# the inbox, and the cursor moved past it, only after the callback exited 0.
#
# Encrypted messages reach the callback as the relay stores them: ciphertext ("encrypted": true,
# base64 "payload" and "nonce"), not decrypted, and no signature is checked: poll.sh holds no
# keys. For decrypted, verified messages on the same stdin contract use the CLI instead:
#   npx clawtalk watch --agent NAME --exec 'my-handler'   (its JSON adds "plaintext", "verified")
#
# Environment:
#   CLAWTALK_API_KEY      the agent's API key (required)
#   CLAWTALK_CALLBACK     command run once per message as `bash -c "$CLAWTALK_CALLBACK"`, with the
#                         message JSON on stdin (required). The message is never put on a command
#                         line or in the environment: read it from stdin.
#   CLAWTALK_URL          relay URL (default http://127.0.0.1:8787)
#   CLAWTALK_INTERVAL     whole seconds >= 1 (default 5): the pause after an empty poll or a failed
#                         callback, and the first pause after a relay error (doubling up to 60 s
#                         while the relay stays down)
#   CLAWTALK_DELETE       true|false (default true): DELETE each message once its callback succeeded
#   CLAWTALK_CURSOR_FILE  holds the ts of the last handled message (default poll.cursor in
#                         $XDG_CONFIG_HOME/clawtalk, else ~/.config/clawtalk, made mode 0700; one
#                         per agent: set it when several agents poll as one user)
#   CLAWTALK_ONCE         1: one pass without waiting: handle every message there, then exit
#   CLAWTALK_UNREAD       1: only messages not delivered before (unread=true): skips what another
#                         reader of this inbox (the CLI, an MCP client, a second poller) or its
#                         webhook already got. Opt-in because those mark messages delivered too:
#                         by default poll.sh hands over every message after its cursor. Whenever
#                         poll.sh may have fetched messages it did not finish (a failed callback or
#                         request, the first poll of a run that resumes from its cursor file), it
#                         asks once without unread, so they come again: the cursor stays exact.
#
# Exit status: 0 when stopped by SIGINT/SIGTERM (after the message in hand) or after a
# CLAWTALK_ONCE pass; 2 when the relay refuses the API key (401); 1 on any other fatal problem
# (bad settings, a relay answer that cannot be trusted; in CLAWTALK_ONCE mode also an unreachable
# relay or a failed callback).
#
# Delivery is at least once: if poll.sh dies between a successful callback and the cursor write,
# or is stopped while the relay cannot be reached to delete the message, the callback sees that
# message again next time. Write callbacks so that a repeat does no harm (the `id` identifies it).

set -euo pipefail

readonly PROG="poll.sh"
readonly LONG_POLL_S=30
readonly PAGE_LIMIT=50
readonly BACKOFF_MAX_S=60
# Message ids as the relay accepts them (worker/schemas.ts MESSAGE_ID_PATTERN). Checked here again
# because an id becomes part of a URL path.
readonly ID_PATTERN='^[A-Za-z0-9._:-]{1,128}$'
# The relay's timestamps (ISO-8601 UTC with milliseconds); they go into the cursor file.
readonly TS_PATTERN='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?Z$'

warn() {
  printf '%s: %s\n' "$PROG" "$*" >&2
}

die() {
  local status=$1
  shift
  warn "$@"
  exit "$status"
}

# ---- Arguments: only --help -----------------------------------------------------------------

if (($# > 0)); then
  case $1 in
    -h | --help)
      # The comment block at the top of this file, without its "# ".
      sed -n '2,/^[^#]/{/^#/{s/^# \{0,1\}//;p;};}' -- "${BASH_SOURCE[0]}"
      exit 0
      ;;
    *) die 1 "unknown argument \"$1\"; settings come from the environment (see --help)" ;;
  esac
fi

# ---- Settings -------------------------------------------------------------------------------

# The CLI's per-user directory (client/agent-files.ts): a relative XDG_CONFIG_HOME is ignored, as
# the XDG spec says.
if [[ ${XDG_CONFIG_HOME:-} == /* ]]; then
  default_cursor_dir=$XDG_CONFIG_HOME/clawtalk
else
  default_cursor_dir=${HOME:-.}/.config/clawtalk
fi

api_key=${CLAWTALK_API_KEY:-}
callback=${CLAWTALK_CALLBACK:-}
base_url=${CLAWTALK_URL:-http://127.0.0.1:8787}
interval=${CLAWTALK_INTERVAL:-5}
delete_after=${CLAWTALK_DELETE:-true}
cursor_file=${CLAWTALK_CURSOR_FILE:-$default_cursor_dir/poll.cursor}
once=${CLAWTALK_ONCE:-}
unread=${CLAWTALK_UNREAD:-}

[[ -n $api_key ]] || die 1 "CLAWTALK_API_KEY is not set"
# The key is written into a header file: a line break would smuggle in another header.
[[ $api_key != *[[:cntrl:]]* ]] || die 1 "CLAWTALK_API_KEY contains control characters"
[[ -n $callback ]] || die 1 "CLAWTALK_CALLBACK is not set (a command that reads one message as JSON on stdin)"
[[ $base_url =~ ^https?://[^[:space:]]+$ ]] || die 1 "CLAWTALK_URL must be an http:// or https:// URL"
base_url=${base_url%/}
if [[ ! $interval =~ ^[0-9]{1,5}$ ]] || ((10#$interval < 1)); then
  die 1 "CLAWTALK_INTERVAL must be a whole number of seconds >= 1"
fi
interval=$((10#$interval))
case ${delete_after,,} in
  true | 1 | yes) delete_after=true ;;
  false | 0 | no) delete_after=false ;;
  *) die 1 "CLAWTALK_DELETE must be true or false" ;;
esac
case $once in
  1) once=true ;;
  "" | 0) once="" ;;
  *) die 1 "CLAWTALK_ONCE must be 1 or unset" ;;
esac
case $unread in
  1) unread=true ;;
  "" | 0) unread="" ;;
  *) die 1 "CLAWTALK_UNREAD must be 1 or unset" ;;
esac
command -v curl >/dev/null || die 1 "curl is required"
command -v jq >/dev/null || die 1 "jq is required"

# ---- Scratch space, signals, interruptible waits --------------------------------------------

work_dir=$(mktemp -d "${TMPDIR:-/tmp}/clawtalk-poll.XXXXXX")
child_pid=""
stop_requested=""
main_pid=$BASHPID

# The traps act only in the main shell: a signal that reaches a forked child (the background
# curl or sleep) before it execs runs the parent's traps there, and the child's EXIT trap would
# delete $work_dir under the main loop (seen here: 1 SIGTERM in ~300 right after a fork).
cleanup() {
  if [[ $BASHPID != "$main_pid" ]]; then return 0; fi
  if [[ -n $child_pid ]]; then kill "$child_pid" 2>/dev/null || true; fi
  rm -rf -- "$work_dir"
}
trap cleanup EXIT

# SIGINT/SIGTERM: finish the message in hand, then exit 0. The long-poll and the pauses run in the
# background under `wait`, which a trapped signal interrupts at once, so they are cut short. The
# callback and a DELETE run in the foreground: bash runs this trap only after they finished.
request_stop() {
  if [[ $BASHPID != "$main_pid" ]]; then exit 143; fi
  stop_requested=true
  if [[ -n $child_pid ]]; then kill "$child_pid" 2>/dev/null || true; fi
}
trap request_stop INT TERM

exit_if_stop_requested() {
  if [[ -n $stop_requested ]]; then exit 0; fi
}

# Runs a command in the background (stdout and stderr to files in $work_dir) and waits for it,
# interruptibly. Callers read the outcome from those files.
run_interruptible() {
  # Created here, not only by the child's redirections: a stop can kill the child before it opened
  # them, and its caller then reads an empty outcome, not the last call's or a missing file (set -e).
  : >"$work_dir/stdout"
  : >"$work_dir/stderr"
  # A stop that came since the caller last checked (bash runs a trap only once the foreground
  # command in hand, `rm` say, has finished) found no child to kill: start none, or a long-poll
  # would hold the stop for its full 30 s (the likely cause of 30 s stalls in two test-suite runs).
  # One that comes between the fork and $child_pid being set is caught just after.
  if [[ -n $stop_requested ]]; then return 0; fi
  "$@" >"$work_dir/stdout" 2>"$work_dir/stderr" &
  child_pid=$!
  if [[ -n $stop_requested ]]; then kill "$child_pid" 2>/dev/null || true; fi
  wait "$child_pid" || true
  # A signal interrupts `wait` and the trap kills the child: reap it before going on.
  while kill -0 "$child_pid" 2>/dev/null; do
    wait "$child_pid" || true
  done
  child_pid=""
}

# Runs a command and puts the first line of its output in the variable named $1; answers the
# command's status. Used instead of var=$(command) everywhere after the traps are set: bash 5.2
# parses a command substitution again when it expands it, and a stop trap that fired during that
# parse failed to parse itself ("trap: line 2: unexpected EOF while looking for matching `)'") and
# made poll.sh exit 2, the status of a refused key (about 1 in 1,000 stops under load).
capture() {
  local _into=$1 _status=0
  shift
  "$@" >"$work_dir/capture" || _status=$?
  printf -v "$_into" '%s' ""
  IFS= read -r "${_into?}" <"$work_dir/capture" || true
  return "$_status"
}

pause() {
  exit_if_stop_requested
  run_interruptible sleep "$1"
  exit_if_stop_requested
}

next_delay() {
  delay=$((delay * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S : delay * 2))
  if ((delay < interval)); then delay=$interval; fi
}

# ---- Cursor ---------------------------------------------------------------------------------

cursor=""
if [[ -s $cursor_file ]]; then
  IFS= read -r cursor <"$cursor_file" || true
  [[ $cursor =~ $TS_PATTERN ]] || die 1 "the cursor file $cursor_file does not hold a timestamp; fix or remove it"
fi
if [[ -z ${CLAWTALK_CURSOR_FILE:-} ]]; then
  (umask 077 && mkdir -p -- "$default_cursor_dir")
else
  capture cursor_dir dirname -- "$cursor_file"
  mkdir -p -- "$cursor_dir"
fi

# With CLAWTALK_UNREAD, whether a poll may ask for unread messages only: not while messages this
# run (or, resuming from a cursor, the last one) fetched may be unfinished, since fetching them
# marked them delivered.
caught_up=""
if [[ -z $cursor ]]; then caught_up=true; fi

# Atomic: a temp file beside the cursor file, then a rename, so a crash leaves the old or the new
# cursor, never a torn one.
save_cursor() {
  local tmp
  capture tmp mktemp "${cursor_file}.XXXXXX"
  printf '%s\n' "$1" >"$tmp"
  mv -f -- "$tmp" "$cursor_file"
  cursor=$1
}

# ---- HTTP -----------------------------------------------------------------------------------

# The key travels in a header file (mode 0600), not on curl's command line where `ps` shows it.
auth_header_file="$work_dir/auth-header"
(umask 077 && printf 'Authorization: Bearer %s\n' "$api_key" >"$auth_header_file")

# Every request: status code on stdout ("000" when no answer came), body in $work_dir/body.
curl_base=(curl --silent --show-error --globoff --proto '=http,https' --connect-timeout 10
  --header @"$auth_header_file" --output "$work_dir/body" --write-out '%{http_code}')

http_status=""
check_status() {
  [[ $http_status =~ ^[0-9]{3}$ ]] || http_status="000"
}

# Sets `failure` to one line saying why the last request failed.
describe_failure() {
  if [[ $http_status == 000 ]]; then
    local reason=""
    IFS= read -r reason 2>/dev/null <"$work_dir/stderr" || true
    failure="relay unreachable (${reason:-no answer})"
  else
    local code=""
    capture code jq -r '"\(.code // "?"): \(.error // "")"' "$work_dir/body" 2>/dev/null || true
    failure="relay answered HTTP $http_status${code:+ ($code)}"
  fi
}

unauthorized() {
  die 2 "the relay refused CLAWTALK_API_KEY (HTTP 401 UNAUTHORIZED)"
}

# Long-polls for the page after the cursor, oldest first; sets http_status. Runs in the
# background so that a stop need not wait out the long-poll.
fetch_page() {
  local wait_s=$LONG_POLL_S
  if [[ -n $once ]]; then wait_s=0; fi
  local query=(--get --data-urlencode "sort=asc" --data-urlencode "limit=$PAGE_LIMIT" --data-urlencode "wait=$wait_s")
  if [[ -n $cursor ]]; then query+=(--data-urlencode "after=$cursor"); fi
  if [[ -n $unread && -n $caught_up ]]; then query+=(--data-urlencode "unread=true"); fi
  caught_up=""
  rm -f -- "$work_dir/body"
  run_interruptible "${curl_base[@]}" --max-time $((LONG_POLL_S + 15)) "${query[@]}" "$base_url/messages"
  IFS= read -r http_status <"$work_dir/stdout" || true
  check_status
}

# Deletes one message (its id already checked against ID_PATTERN). Retries relay errors with
# backoff. Sets deleted=true once the message is gone (204, or 404: gone already); leaves it
# empty when a stop was requested first.
delete_message() {
  local id=$1 delay=$interval
  deleted=""
  while :; do
    rm -f -- "$work_dir/body"
    capture http_status "${curl_base[@]}" --max-time 30 --request DELETE "$base_url/messages/$id" 2>"$work_dir/stderr" || true
    check_status
    case $http_status in
      200 | 204 | 404)
        deleted=true
        return
        ;;
      401) unauthorized ;;
      000 | 408 | 429 | 5??) ;;
      *)
        describe_failure
        die 1 "cannot delete message $id: $failure"
        ;;
    esac
    if [[ -n $once ]]; then
      describe_failure
      die 1 "cannot delete message $id: $failure; it will be handled again next time"
    fi
    if [[ -n $stop_requested ]]; then return; fi
    describe_failure
    warn "cannot delete message $id: $failure; retrying in ${delay}s"
    run_interruptible sleep "$delay"
    next_delay
  done
}

# ---- Handling a page ------------------------------------------------------------------------

# Sets the variable named $1 to the string that JSON value $2 (one line, as `jq -c` prints it:
# quoted, control characters escaped) holds, so the patterns check the whole value (a raw value
# could hide a trailing newline). Empty when $2 is not a plain string.
json_string() {
  if [[ $2 =~ ^\"([^\"\\]*)\"$ ]]; then printf -v "$1" '%s' "${BASH_REMATCH[1]}"; else printf -v "$1" '%s' ""; fi
}

# Handles the messages of $work_dir/page in order. Sets page_done=true when all were handled;
# stops at the first failed callback (that message and the rest come again with the next poll).
handle_page() {
  page_done=""
  # One jq for the whole page (not two more per message): three lines per message, its id and ts
  # as JSON (null when it has none, or is not an object) and the message itself, each on one line.
  local -a lines=()
  jq -c '.messages[] | (if type == "object" then .id, .ts else null, null end), .' "$work_dir/page" >"$work_dir/messages" || true
  mapfile -t lines <"$work_dir/messages"
  local i message id ts callback_status
  for ((i = 0; i + 2 < ${#lines[@]}; i += 3)); do
    json_string id "${lines[i]}"
    json_string ts "${lines[i + 1]}"
    message=${lines[i + 2]}
    [[ $id =~ $ID_PATTERN ]] || die 1 "refusing a message whose id is not 1-128 characters of A-Z a-z 0-9 . _ : - (the relay does not behave as documented)"
    [[ $ts =~ $TS_PATTERN ]] || die 1 "refusing message $id: its ts is not an ISO-8601 UTC timestamp"

    # The message reaches the callback on stdin only (a here-string): never on a command line,
    # never through eval, never in the environment.
    callback_status=0
    bash -c "$callback" <<<"$message" || callback_status=$?
    if ((callback_status != 0)); then
      warn "callback exited $callback_status on message $id; it stays in the inbox and is retried"
      return
    fi
    if [[ $delete_after == true ]]; then
      delete_message "$id"
      # Stopped before the delete went through: keep the cursor, so the message is handled
      # again next time rather than left in the inbox for good.
      if [[ -z $deleted ]]; then exit 0; fi
    fi
    save_cursor "$ts"
    exit_if_stop_requested
  done
  page_done=true
}

# ---- Main loop ------------------------------------------------------------------------------

delay=$interval
while :; do
  exit_if_stop_requested
  fetch_page
  exit_if_stop_requested

  case $http_status in
    200) ;;
    401) unauthorized ;;
    000 | 408 | 429 | 5??)
      describe_failure
      if [[ -n $once ]]; then die 1 "$failure"; fi
      capture retry_after jq -r '.retryAfter // 0 | floor' "$work_dir/body" 2>/dev/null || true
      [[ $retry_after =~ ^[0-9]{1,5}$ ]] || retry_after=0
      wait_s=$((retry_after > delay ? retry_after : delay))
      warn "$failure; retrying in ${wait_s}s"
      pause "$wait_s"
      next_delay
      continue
      ;;
    *)
      describe_failure
      die 1 "$failure"
      ;;
  esac

  mv -f -- "$work_dir/body" "$work_dir/page"
  # The page's check and its size in one jq: no count when it is not a page of messages.
  capture count jq '.messages | if type == "array" then length else null end' "$work_dir/page" 2>/dev/null || true
  if ! [[ $count =~ ^[0-9]+$ ]]; then
    if [[ -n $once ]]; then die 1 "the relay's answer is not a page of messages"; fi
    warn "the relay's answer is not a page of messages; retrying in ${delay}s"
    pause "$delay"
    next_delay
    continue
  fi
  delay=$interval

  if ((count == 0)); then
    caught_up=true
    if [[ -n $once ]]; then exit 0; fi
    pause "$interval"
    continue
  fi

  handle_page
  if [[ -z $page_done ]]; then
    if [[ -n $once ]]; then die 1 "stopped at a message whose callback failed"; fi
    pause "$interval"
    continue
  fi
  caught_up=true
  # A page was handled: poll again at once, there may be more. A CLAWTALK_ONCE pass ends when
  # the relay says nothing more matches.
  if [[ -n $once ]]; then
    capture has_more jq -r '.hasMore' "$work_dir/page"
    if [[ $has_more != true ]]; then exit 0; fi
  fi
done
