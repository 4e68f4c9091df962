# bash completion for callsctl, the command-line client of callsd.
# Installed as share/bash-completion/completions/callsctl (loaded on demand
# by bash-completion); or `source` it. Completes commands, push and room
# subcommands, options (global and per command), push token types, room
# types, help topics, and file names after --socket and --token-file. Call
# ids, room ids, users and URLs are not completed (they come from the daemon).

_callsctl_commands="status init login logout refresh-token watch dial accept decline end mute unmute calls history push room help"
_callsctl_push_subcommands="register unregister unregister-all list deliver"
_callsctl_room_subcommands="create enter exit show list mute unmute delete"
_callsctl_global_options="--socket --json --timeout --help"

# The options of one command ("push register", "room enter" for subcommands).
_callsctl_command_options() {
  case "$1" in
    login) echo "--token-file --token-stdin --session-token" ;;
    logout) echo "--keep-push-tokens" ;;
    refresh-token) echo "--token-file --token-stdin" ;;
    dial) echo "--video" ;;
    history) echo "--limit --next" ;;
    "push register") echo "--unique" ;;
    "room create") echo "--type" ;;
    "room enter") echo "--muted" ;;
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
    --type)
      mapfile -t COMPREPLY < <(compgen -W "small large" -- "$cur")
      return 0
      ;;
  esac

  # The command words typed so far (options and their values skipped).
  local -a words=()
  local i w
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="${COMP_WORDS[i]}"
    case "$w" in
      --socket | --timeout | --token-file | --limit | --next | --type)
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
  [[ ("$command" == push || "$command" == room) && ${#words[@]} -ge 2 ]] &&
    name="$command ${words[1]}"

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
    room)
      if ((${#words[@]} == 1)); then
        mapfile -t COMPREPLY < <(compgen -W "$_callsctl_room_subcommands" -- "$cur")
      fi
      ;;
    help)
      if ((${#words[@]} == 1)); then
        mapfile -t COMPREPLY < <(compgen -W "$_callsctl_commands" -- "$cur")
      elif ((${#words[@]} == 2)) && [[ "${words[1]}" == push ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$_callsctl_push_subcommands" -- "$cur")
      elif ((${#words[@]} == 2)) && [[ "${words[1]}" == room ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$_callsctl_room_subcommands" -- "$cur")
      fi
      ;;
  esac
  return 0
}

complete -F _callsctl callsctl
