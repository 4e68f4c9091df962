# bash completion for callsctl, the command-line client of callsd.
# Installed as share/bash-completion/completions/callsctl (loaded on demand
# by bash-completion); or `source` it. Completes commands, push subcommands,
# options (global and per command), push token types, help topics, and file
# names after --socket and --token-file. Call ids, users and URLs are not
# completed (they come from the daemon).

_callsctl_commands="status init login logout refresh-token watch dial accept decline end mute unmute calls history push help"
_callsctl_push_subcommands="register unregister unregister-all list deliver"
_callsctl_global_options="--socket --json --timeout --help"

# The options of one command ("push register" for push subcommands).
_callsctl_command_options() {
  case "$1" in
    login) echo "--token-file --token-stdin --session-token" ;;
    logout) echo "--keep-push-tokens" ;;
    refresh-token) echo "--token-file --token-stdin" ;;
    dial) echo "--video" ;;
    history) echo "--limit --next" ;;
    "push register") echo "--unique" ;;
  esac
}

_callsctl() {
  local cur="${COMP_WORDS[COMP_CWORD]}"
  local prev=""
  ((COMP_CWORD > 0)) && prev="${COMP_WORDS[COMP_CWORD - 1]}"
  # "--socket=PATH": bash splits at '=' (COMP_WORDBREAKS).
  if [[ "$cur" == "=" ]]; then
    prev="${COMP_WORDS[COMP_CWORD - 1]}"
    cur=""
  elif [[ "$prev" == "=" ]] && ((COMP_CWORD > 1)); then
    prev="${COMP_WORDS[COMP_CWORD - 2]}"
  fi
  COMPREPLY=()

  # The value of an option.
  case "$prev" in
    --socket | --token-file)
      compopt -o filenames 2>/dev/null
      mapfile -t COMPREPLY < <(compgen -f -- "$cur")
      return 0
      ;;
    --timeout | --limit | --next)
      return 0
      ;;
  esac

  # The command words typed so far (options and their values skipped).
  local -a words=()
  local i w
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="${COMP_WORDS[i]}"
    case "$w" in
      --socket | --timeout | --token-file | --limit | --next)
        # Skip the value (and a '=' between).
        ((i++))
        [[ "${COMP_WORDS[i]}" == "=" ]] && ((i++))
        ;;
      -* | "=") ;;
      *) words+=("$w") ;;
    esac
  done

  local command="${words[0]:-}"
  local name="$command"
  [[ "$command" == push && ${#words[@]} -ge 2 ]] && name="push ${words[1]}"

  if [[ "$cur" == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$_callsctl_global_options $(_callsctl_command_options "$name")" -- "$cur")
    return 0
  fi

  if [[ -z "$command" ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$_callsctl_commands" -- "$cur")
    return 0
  fi
  case "$command" in
    push)
      if ((${#words[@]} == 1)); then
        mapfile -t COMPREPLY < <(compgen -W "$_callsctl_push_subcommands" -- "$cur")
      elif ((${#words[@]} == 2)); then
        case "${words[1]}" in
          register | unregister | unregister-all)
            mapfile -t COMPREPLY < <(compgen -W "voip remote" -- "$cur")
            ;;
        esac
      fi
      ;;
    help)
      if ((${#words[@]} == 1)); then
        mapfile -t COMPREPLY < <(compgen -W "$_callsctl_commands" -- "$cur")
      elif ((${#words[@]} == 2)) && [[ "${words[1]}" == push ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$_callsctl_push_subcommands" -- "$cur")
      fi
      ;;
  esac
  return 0
}

complete -F _callsctl callsctl
