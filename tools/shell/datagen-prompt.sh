# datagen prompt segment for bash and zsh: the active organization, from the agent's memory
# (no network round trip within the staleness bound; no agent is started by a prompt).
#
#   bash:  . /path/to/datagen-prompt.sh;  PS1='$(datagen_prompt_org)'"$PS1"
#   zsh:   . /path/to/datagen-prompt.sh;  setopt PROMPT_SUBST;  PROMPT='$(datagen_prompt_org)'"$PROMPT"
#
# Prints "[org] " when signed in, nothing otherwise (signed out, expired, no agent running).
# Cost: one `datagen auth status` (see tools/shell/measure-prompt for figures on this machine).
datagen_prompt_org() {
  local json org
  json=$(DATAGEN_NO_AUTOSTART=1 command datagen auth status --format json 2>/dev/null) || return 0
  # The reply is one JSON object whose active_org_slug is [A-Za-z0-9._-]*: no quoting to undo.
  case $json in
    *'"active_org_slug":"'*) ;;
    *) return 0 ;;
  esac
  org=${json#*\"active_org_slug\":\"}
  org=${org%%\"*}
  [ -n "$org" ] && printf '[%s] ' "$org"
  return 0
}
