# datagen prompt segment for bash and zsh: the active organization, read from the agent's
# prompt state file (docs/api.md "Prompt state file") with shell builtins only: no process is
# started, no agent is started, nothing waits on the network.
#
#   bash:  . /path/to/datagen-prompt.sh
#          PROMPT_COMMAND="datagen_prompt_update${PROMPT_COMMAND:+; $PROMPT_COMMAND}"
#          PS1='${DATAGEN_PROMPT_ORG}'"$PS1"
#   zsh:   . /path/to/datagen-prompt.sh
#          precmd_functions+=(datagen_prompt_update); setopt PROMPT_SUBST
#          PROMPT='${DATAGEN_PROMPT_ORG}'"$PROMPT"
#
# datagen_prompt_update sets DATAGEN_PROMPT_ORG to "[org] " while the agent says the session is
# signed in with an active organization, and to "" otherwise (signed out, expired, no agent
# running, or a file left by an agent that was killed: its pid is gone). datagen_prompt_org
# prints the same, for prompts that call a command (a fork when used as $(datagen_prompt_org)).
# The session shown is this shell's: the profile in DATAGEN_PROFILE ("[profile:org] " for one
# other than default), with the organization in DATAGEN_ORG when that is set (as every datagen
# command of this shell uses it), read anew at every prompt.
#
# The file is found once, when this script is sourced: beside $DATAGEN_AGENT_SOCKET, else in
# $XDG_RUNTIME_DIR/datagen, else in /tmp/datagen-<uid> (docs/cli.md "Files and environment"). Set
# DATAGEN_PROMPT_FILE, or source the script again, if that changes. Its variables start with
# _datagen_ (globals: `local` costs more than the rest of the segment).

if [ -n "${DATAGEN_AGENT_SOCKET:-}" ]; then
  DATAGEN_PROMPT_FILE="${DATAGEN_AGENT_SOCKET%/*}/prompt"
elif [ -n "${XDG_RUNTIME_DIR:-}" ]; then
  DATAGEN_PROMPT_FILE="$XDG_RUNTIME_DIR/datagen/prompt"
else
  DATAGEN_PROMPT_FILE="/tmp/datagen-$UID/prompt"
fi

# How to tell that the agent which wrote the file is alive: /proc/<pid> on Linux (a stat, no
# signal), else kill -0.
[ -d /proc/self ] && _datagen_proc=1 || _datagen_proc=

# Whose file it is. Without XDG_RUNTIME_DIR the folder is /tmp/datagen-<uid>, which another user
# can create first and fill with a prompt line of their choosing (a fake "[prod]", terminal
# escapes, zsh % codes). So the line is believed only when the file and its folder are this
# user's (-O: owned by the effective uid), neither is a symbolic link, and the org is a slug
# ([A-Za-z0-9._-], at most 100 characters); zsh also checks that neither is writable by group
# or others (zstat, from the zsh/stat module: a builtin, no process). bash has no builtin that
# reads a file's mode: there, what stands for it is that only its owner can write a file's
# content or change its mode, and that the agent writes the file 0600, by rename, only into a
# folder of the user's that is closed to others (it refuses any other).
_datagen_zstat=
if [ -n "${ZSH_VERSION:-}" ] && zmodload -F zsh/stat b:zstat 2>/dev/null; then
  _datagen_zstat=1
fi

# The line: "datagen-prompt 1 <pid> <state> <org>", the first of the prompt file for the default
# profile, and the only one of "<prompt file>.<name>" for another profile: one short read,
# however many profiles the agent serves.
datagen_prompt_update() {
  DATAGEN_PROMPT_ORG=
  _datagen_profile=${DATAGEN_PROFILE:-default}
  if [[ $_datagen_profile == default ]]; then
    _datagen_file=$DATAGEN_PROMPT_FILE
  else
    # A profile name only ([a-z0-9_-], at most 32): it becomes part of a path.
    [[ ${#_datagen_profile} -le 32 && $_datagen_profile != *[!a-z0-9_-]* ]] || return 0
    _datagen_file=$DATAGEN_PROMPT_FILE.$_datagen_profile
  fi
  _datagen_dir=${_datagen_file%/*}
  [[ -f $_datagen_file && -O $_datagen_file && ! -L $_datagen_file &&
    -O ${_datagen_dir:-/} && ! -L ${_datagen_dir:-/} ]] || return 0
  if [[ -n $_datagen_zstat ]]; then
    zstat -A _datagen_mode +mode -- "$_datagen_file" "${_datagen_dir:-/}" || return 0
    (( (_datagen_mode[1] & 8#22) == 0 && (_datagen_mode[2] & 8#22) == 0 )) || return 0
  fi
  read -r _datagen_magic _datagen_version _datagen_pid _datagen_state _datagen_org \
    <"$_datagen_file" || return 0
  # This shell's organization, as its commands use it.
  [[ -n ${DATAGEN_ORG:-} ]] && _datagen_org=$DATAGEN_ORG
  [[ $_datagen_magic == datagen-prompt && $_datagen_version == 1 &&
    $_datagen_state == signed_in && -n $_datagen_org && ${#_datagen_org} -le 100 &&
    $_datagen_org != *[!A-Za-z0-9._-]* &&
    -n $_datagen_pid && $_datagen_pid != *[!0-9]* && $_datagen_pid -gt 1 ]] || return 0
  # A file left by an agent killed with -9: its pid is gone.
  if [[ -n $_datagen_proc ]]; then
    [[ -d /proc/$_datagen_pid ]] || return 0
  else
    kill -0 "$_datagen_pid" 2>/dev/null || return 0
  fi
  if [[ $_datagen_profile == default ]]; then
    DATAGEN_PROMPT_ORG="[$_datagen_org] "
  else
    DATAGEN_PROMPT_ORG="[$_datagen_profile:$_datagen_org] "
  fi
}

datagen_prompt_org() {
  datagen_prompt_update
  printf '%s' "$DATAGEN_PROMPT_ORG"
}
