# Shared by same-output.sh and same-import.sh (sourced, not run).

# same_captures ROOT [CAPTURE...]: sets caps to the CAPTUREs given, or to
# every capture under ROOT/testdata and ROOT/../shared/corpus (when present)
# plus the 50,000-call bench capture when /tmp/sipscope-bench has it and BIG
# is not 0.
same_captures() {
	local root=$1
	shift
	caps=("$@")
	if [ ${#caps[@]} -eq 0 ]; then
		while IFS= read -r f; do caps+=("$f"); done < <(
			find "$root/testdata" "$root/../shared/corpus" -type f \
				\( -name '*.pcap' -o -name '*.pcapng' -o -name '*.cap' \) 2>/dev/null | sort)
		if [ "${BIG:-1}" != 0 ] && [ -r /tmp/sipscope-bench/sipp-50000-calls.pcap ]; then
			caps+=(/tmp/sipscope-bench/sipp-50000-calls.pcap)
		fi
	fi
}
