# bash completion for hookpipe and hookpipectl.

_hookpipe_words() {
	case $1 in
	'') echo "integration sub workflow cred oauth key migrate spool events
	    event runs run replay send tail config doctor backup restore version
	    cluster lifecycle enrich --workspace --home --json --help" ;;
	integration) echo "list show" ;;
	sub) echo "create list show edit refresh-keys delete" ;;
	workflow) echo "create edit enable disable trigger untrigger publish
	    unpublish show list delete test" ;;
	run) echo "show" ;;
	config) echo "list get set unset" ;;
	cred) echo "add list delete" ;;
	oauth) echo "client authorize" ;;
	key) echo "rotate" ;;
	spool) echo "list show drop retry" ;;
	cluster) echo "init status forget" ;;
	tail) echo "receiver verifier router dispatcher" ;;
	esac
}

_hookpipe() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	local i cmd= words
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		--workspace) ((i++)) ;;
		-*) ;;
		*) cmd=${COMP_WORDS[i]}; break ;;
		esac
	done
	case $prev in
	--file|--secret-file|--secondary-secret-file|--app-key-file|\
	--api-key-file|--client-secret-file)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	esac
	if [[ $cur == -* ]]; then
		words="--json --help --workspace"
		[ "$cmd" = key ] && words="$words --prepare"
		COMPREPLY=($(compgen -W "$words" -- "$cur"))
		return
	fi
	if [ -z "$cmd" ]; then
		words=$(_hookpipe_words '')
	elif ((i + 1 == COMP_CWORD)); then
		words=$(_hookpipe_words "$cmd")
	fi
	COMPREPLY=($(compgen -W "$words" -- "$cur"))
}

_hookpipectl() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	local stages="receiver verifier router dispatcher"
	if ((COMP_CWORD == 1)); then
		COMPREPLY=($(compgen -W "start stop restart status swap tail
		    logs reload gen help --help" -- "$cur"))
		return
	fi
	case ${COMP_WORDS[1]} in
	start) COMPREPLY=($(compgen -W "--foreground --help" -- "$cur")) ;;
	status) COMPREPLY=($(compgen -W "--json --help" -- "$cur")) ;;
	stop|tail|logs)
		case $cur in
		-*) COMPREPLY=($(compgen -W "--payload -n --since -f --help" \
		    -- "$cur")) ;;
		*) COMPREPLY=($(compgen -W "$stages" -- "$cur")) ;;
		esac ;;
	restart) COMPREPLY=($(compgen -W "$stages all" -- "$cur")) ;;
	swap)
		if ((COMP_CWORD == 2)); then
			COMPREPLY=($(compgen -W "$stages" -- "$cur"))
		else
			COMPREPLY=($(compgen -f -- "$cur"))
		fi ;;
	gen)
		case $prev in
		--home|--exe-dir) COMPREPLY=($(compgen -d -- "$cur")) ;;
		--user) COMPREPLY=($(compgen -u -- "$cur")) ;;
		--listen) ;;
		gen) COMPREPLY=($(compgen -W "systemd s6 runit" -- "$cur")) ;;
		*)
			case $cur in
			-*) COMPREPLY=($(compgen -W "--user --home --listen
			    --exe-dir --help" -- "$cur")) ;;
			*) COMPREPLY=($(compgen -d -- "$cur")) ;;
			esac ;;
		esac ;;
	help) COMPREPLY=($(compgen -W "start stop restart status swap tail
	    logs reload gen help" -- "$cur")) ;;
	esac
}

complete -F _hookpipe hookpipe
complete -F _hookpipectl hookpipectl
