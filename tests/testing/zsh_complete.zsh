# Completes a command line in a real interactive zsh, as a person would with TAB.
#
#   zsh -f zsh_complete.zsh FPATH_DIR 'datagen auth o'
#
# Starts `zsh -f -i` on a pseudo-terminal (zsh/zpty), puts FPATH_DIR first on $fpath, runs
# compinit, types the words and then one key bound to a widget that does what TAB does
# (expand-or-complete) and then what Enter does (accept-line): the completion has run before
# the line is taken, with no waiting in between. `datagen` there is a function that prints
# what it was called with between markers, so the output is one line: the words after
# completion (e.g. `auth org`). Exits 1 when no such line came within 10 s.
zmodload zsh/zpty
zpty shell 'zsh -f -i'
zpty -w shell "fpath=(${(q)1} \$fpath); autoload -Uz compinit; compinit -u -D; datagen() { print -r -- \"<<<\$*>>>\" }"
zpty -w shell "tab-then-enter() { zle expand-or-complete; zle accept-line }; zle -N tab-then-enter; bindkey '^X^A' tab-then-enter"
zpty -w -n shell "$2"$'\C-x\C-a'
local output chunk
integer deadline=$(( SECONDS + 10 ))
while (( SECONDS < deadline )); do
  if zpty -r -t shell chunk 2>/dev/null; then
    output+=$chunk
    # The function's output, not the echo of its definition (which shows `$*`).
    if [[ $output =~ '<<<([^$<>]*)>>>' ]]; then
      print -r -- "$match[1]"
      zpty -d shell
      exit 0
    fi
  else
    sleep 0.05
  fi
done
zpty -d shell
print -u2 "zsh_complete: no completed command line within 10 s"
exit 1
