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
# running, or a file left by an agent that died: its pid is gone). datagen_prompt_org prints
# the same, for prompts that call a command (it costs a fork when used as $(datagen_prompt_org)).

# The file beside the agent's socket: $DATAGEN_AGENT_SOCKET's folder, else
# $XDG_RUNTIME_DIR/datagen, else /tmp/datagen-<uid> (cli.md "Files and environment").
datagen_prompt_file() {
  if [ -n "${DATAGEN_AGENT_SOCKET:-}" ]; then
    REPLY="${DATAGEN_AGENT_SOCKET%/*}/prompt"
  elif [ -n "${XDG_RUNTIME_DIR:-}" ]; then
    REPLY="$XDG_RUNTIME_DIR/datagen/prompt"
  else
    REPLY="/tmp/datagen-$UID/prompt"
  fi
}

datagen_prompt_update() {
  DATAGEN_PROMPT_ORG=
  local REPLY magic version pid state org
  datagen_prompt_file
  [ -r "$REPLY" ] || return 0
  read -r magic version pid state org <"$REPLY" 2>/dev/null || return 0
  [ "$magic" = datagen-prompt ] && [ "$version" = 1 ] && [ "$state" = signed_in ] || return 0
  [ -n "$org" ] || return 0
  # A file left by an agent that is gone (killed with -9): its pid is dead, or, on Linux,
  # now another program's.
  kill -0 "$pid" 2>/dev/null || return 0
  if [ -r "/proc/$pid/comm" ]; then
    local comm
    read -r comm <"/proc/$pid/comm" 2>/dev/null || return 0
    [ "$comm" = datagen-agent ] || return 0
  fi
  DATAGEN_PROMPT_ORG="[$org] "
  return 0
}

datagen_prompt_org() {
  datagen_prompt_update
  printf '%s' "$DATAGEN_PROMPT_ORG"
}
