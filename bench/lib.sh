# shellcheck shell=bash
# bench/lib.sh — shared by bench/compare.sh and bench/ceiling.sh (sourced).

# warm FILE: puts FILE in the page cache in one known state. How the cache
# holds a file depends on its history: one written in small pieces (tcpdump
# writes 4 KiB at a time) is held in 4 KiB pages, and the bench captures,
# written 1 MiB at a time, were found so too, and went back to it later
# without being rewritten. A bare read loop over the bulk capture takes
# about 30 ms then, 17 ms once the file is dropped from the cache and read
# again (large folios). So with CACHE=reread (the default) the file is
# dropped (dd iflag=nocache) and read once; with CACHE=asis it is only
# read. Every tool then reads the same file in the same state.
warm() {
	case ${CACHE:-reread} in
	reread)
		dd if="$1" iflag=nocache count=0 status=none ||
			{
				echo "bench: dd cannot drop $1 from the page cache (iflag=nocache); run with CACHE=asis" >&2
				exit 2
			}
		;;
	asis) ;;
	*)
		echo "bench: CACHE must be reread or asis, not ${CACHE}" >&2
		exit 2
		;;
	esac
	cat "$1" >/dev/null
}
