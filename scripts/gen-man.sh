#!/usr/bin/env bash
# Writes ebee-CMD[-SUB].8 for every command and subcommand listed by the binary's own help.
set -euo pipefail
ebee=$1 out=$2
cmds() { "$ebee" "$@" --help | awk '/^Commands:/{on=1; next} on && /^  [a-z]/{print $1} on && /^$/{exit}'; }
for c in $(cmds); do
	case $c in help|completion) continue ;; esac
	subs=$(cmds "$c" 2>/dev/null || true)
	if [ -n "$subs" ]; then
		for s in $subs; do "$ebee" help --man "$c" "$s" > "$out/ebee-$c-$s.8"; done
	else
		"$ebee" help --man "$c" > "$out/ebee-$c.8"
	fi
done
printf "  MAN      %s pages in %s\n" "$(ls "$out" | wc -l)" "$out" >&2
