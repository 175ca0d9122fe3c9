# Sourced by the VM tests. load_modules M... loads each kernel module the
# test needs, or finds it built in. For one this kernel has neither way it
# prints what is missing and returns 1: the test then skips with that reason
# (the host's table shows it), as a host running this kernel would refuse
# the fault (sabot doctor).
load_modules() {
	lm_missing=
	for lm in "$@"; do
		[ -d "/sys/module/$lm" ] && continue
		grep -qE "/$lm\.ko" "/lib/modules/$(uname -r)/modules.builtin" 2>/dev/null && continue
		modprobe "$lm" 2>/dev/null || lm_missing="$lm_missing $lm"
	done
	[ -z "$lm_missing" ] && return 0
	echo "this kernel ($(uname -r)) lacks:$lm_missing"
	return 1
}

# rtt_stats: ping's output on stdin -> "min median max mean" of the
# replies' RTT in ms. The median, not the average: on a loaded CI machine one reply in
# twenty may come 100 ms late, which moves an average of twenty by 5 ms
# but not the median.
rtt_stats() {
	sed -n 's/.* time=\([0-9.]*\) *ms.*/\1/p' | sort -n |
		awk '{ v[NR] = $1; t += $1 } END { if (NR) print v[1], (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2), v[NR], t / NR }'
}

# doctor_all_supported RC OUTPUT: sabot doctor's exit code and output say
# every kind is supported. (Until issue #16 the dns kind was set aside on
# Debian's 6.1 kernels, whose verifier refused its program: no longer.)
doctor_all_supported() {
	[ "$1" = 0 ] && printf '%s\n' "$2" | grep -q '^everything is supported$'
}
