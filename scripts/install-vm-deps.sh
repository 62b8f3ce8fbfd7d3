#!/usr/bin/env bash
# Installs what the real-VM test tier (tests/vm/) needs
# on Debian 12: QEMU >= 8 from Debian's bookworm-backports suite,
# busybox-static and kmod (for the guest initramfs), mmdebstrap (for
# scripts/make-guest-image.sh), and two guest kernels
# unpacked into a cache directory — never installed into the host's /boot:
#
#   $TESSERA_VM_CACHE/linux-6.1   Debian 12's kernel (what linux-image-amd64
#                                 depends on)
#   $TESSERA_VM_CACHE/linux-6.12  the bookworm-backports 6.12 kernel
#
# Each is a symlink to the package unpacked with dpkg-deb -x, so it holds
# boot/vmlinuz-<kver> and lib/modules/<kver>/, plus boot/vmlinux-<kver>:
# the uncompressed ELF kernel, which QEMU boots through PVH without running
# the bzImage decompressor (seconds saved per boot under TCG).
#
# The backports suite is added with the same mirror (and keyring) as the
# machine's own bookworm entry, read from its apt sources (deb822 *.sources
# or one-line sources.list) at run time.
#
# Idempotent, non-interactive, runs as root. When everything is present it
# only reports what there is (no apt-get update, no download).
#
#   scripts/install-vm-deps.sh                 install what is missing
#   scripts/install-vm-deps.sh --refresh       look for newer kernels too
#   scripts/install-vm-deps.sh --print-source  print the backports source
#                                              it would add, change nothing
#   scripts/install-vm-deps.sh --print-entry SUITE
#                       print "URI<TAB>SIGNED-BY" of the machine's apt entry
#                       for SUITE (scripts/make-guest-image.sh's mirror)
#   scripts/install-vm-deps.sh --vmlinux DIR
#                       unpack DIR/boot/vmlinuz-* into DIR/boot/vmlinux-*
#
# Environment: TESSERA_VM_CACHE (default /var/cache/tessera-vm);
# TESSERA_VM_APT_ETC (default /etc/apt, for testing --print-source).
set -euo pipefail

prog=install-vm-deps.sh
codename=bookworm
backports="$codename-backports"
cache="${TESSERA_VM_CACHE:-/var/cache/tessera-vm}"
apt_etc="${TESSERA_VM_APT_ETC:-/etc/apt}"
apt_sources_dir="$apt_etc/sources.list.d"
our_sources="$apt_sources_dir/tessera-$backports.sources"
min_qemu_major=8
host_pkgs=(busybox-static kmod python3 zstd mmdebstrap)
backports_pkgs=(qemu-system-x86)

refresh=0
print_source=0
print_entry=
vmlinux_dir=
while [ $# -gt 0 ]; do
	case "$1" in
	--refresh) refresh=1 ;;
	--print-source) print_source=1 ;;
	--print-entry|--vmlinux)
		[ $# -ge 2 ] || { echo "$prog: $1 needs an argument" >&2; exit 2; }
		if [ "$1" = --print-entry ]; then print_entry="$2"; else vmlinux_dir="$2"; fi
		shift ;;
	-h|--help) sed -n '2,35p' "$0"; exit 0 ;;
	*) echo "$prog: unknown argument '$1'" >&2; exit 2 ;;
	esac
	shift
done

log() { echo "$prog: $*"; }
die() { echo "$prog: error: $*" >&2; exit 1; }

tmp=
cleanup() { [ -z "$tmp" ] || rm -rf "$tmp"; }
trap cleanup EXIT

# --- apt sources: derive bookworm-backports from the machine's mirror ------

source_files() { # $1: glob suffix (sources or list)
	local f
	for f in "$apt_sources_dir"/*."$1"; do
		[ -f "$f" ] && [ "$f" != "$our_sources" ] && echo "$f"
	done
	return 0
}

# Prints "URI<TAB>SIGNED-BY" of the first enabled deb822 stanza whose Suites
# holds exactly $1 (default $codename: not -updates or -security).
find_deb822() {
	local files
	mapfile -t files < <(source_files sources)
	[ "${#files[@]}" -gt 0 ] || return 0
	awk -v want="${1:-$codename}" '
		function flush() {
			if (!found && types ~ /(^|[ \t])deb([ \t]|$)/ &&
			    enabled != "no" && uri != "" &&
			    (" " suites " ") ~ ("[ \t]" want "[ \t]")) {
				printf "%s\t%s\n", uri, signed
				found = 1
			}
			types = suites = uri = signed = enabled = ""
		}
		FNR == 1 { flush() }
		/^#/ { next }
		/^[ \t]*$/ { flush(); next }
		/^[ \t]/ { next }  # continuation line (an inline key)
		{
			key = tolower($1); sub(/:$/, "", key)
			val = $0; sub(/^[^:]*:[ \t]*/, "", val); sub(/[ \t]+$/, "", val)
			if (key == "types") types = val
			else if (key == "suites") suites = val
			else if (key == "uris") { split(val, u, /[ \t]+/); uri = u[1] }
			else if (key == "enabled") enabled = tolower(val)
			else if (key == "signed-by" && val ~ /^\//) signed = val
		}
		END { flush() }
	' "${files[@]}"
}

# The same from one-line entries: "deb [opts] URI bookworm comp...".
find_oneline() {
	local files=()
	[ -f "$apt_etc/sources.list" ] && files+=("$apt_etc/sources.list")
	mapfile -t -O "${#files[@]}" files < <(source_files list)
	[ "${#files[@]}" -gt 0 ] || return 0
	awk -v want="${1:-$codename}" '
		found || /^[ \t]*#/ { next }
		$1 == "deb" {
			i = 2; signed = ""
			if ($i ~ /^\[/) {
				opts = ""
				for (; i <= NF; i++) {
					opts = opts " " $i
					if ($i ~ /\]$/) { i++; break }
				}
				if (match(opts, /signed-by=[^] ]+/))
					signed = substr(opts, RSTART + 10, RLENGTH - 10)
			}
			if ($(i + 1) == want && $i !~ /^cdrom:/) {
				printf "%s\t%s\n", $i, signed
				found = 1
			}
		}
	' "${files[@]}"
}

backports_configured() { # does another active source name the suite?
	local files hits
	mapfile -t files < <(source_files sources; source_files list)
	[ -f "$apt_etc/sources.list" ] && files+=("$apt_etc/sources.list")
	[ "${#files[@]}" -gt 0 ] || return 1
	hits="$(grep -lsE "^[^#]*[[:space:]]$backports([[:space:]]|\$)" \
		"${files[@]}" || true)"
	[ -n "$hits" ]
}

backports_stanza() {
	local line uri signed
	line="$(find_deb822)"
	[ -n "$line" ] || line="$(find_oneline)"
	[ -n "$line" ] || die "no enabled '$codename' entry in $apt_etc to take the mirror from"
	uri="${line%%$'\t'*}"
	signed="${line#*$'\t'}"
	echo "# Added by tessera scripts/install-vm-deps.sh (QEMU >= 8, 6.12 kernel)"
	echo "Types: deb"
	echo "URIs: $uri"
	echo "Suites: $backports"
	echo "Components: main"
	if [ -n "$signed" ]; then
		echo "Signed-By: $signed"
	fi
}

first_file() { # first existing match of a glob, or nothing
	local IFS= matches
	# shellcheck disable=SC2206 # the glob is meant to expand
	matches=($1)
	[ -e "${matches[0]}" ] && echo "${matches[0]}"
	return 0
}

# Unpacks the ELF kernel from a bzImage: boot/vmlinuz-X -> boot/vmlinux-X.
make_vmlinux() {
	local img elf
	img="$(first_file "$1/boot/vmlinuz-*")"
	[ -n "$img" ] || die "no boot/vmlinuz-* in $1"
	elf="$(dirname "$img")/vmlinux-${img##*/vmlinuz-}"
	[ -s "$elf" ] && return 0
	log "unpacking $(basename "$elf")"
	python3 - "$img" "$elf.part" <<'EOF'
import lzma, struct, subprocess, sys, zlib
src, dst = sys.argv[1:]
with open(src, "rb") as f:
    img = f.read()
if img[0x202:0x206] != b"HdrS":
    sys.exit(f"{src}: not a bzImage")
start = ((img[0x1F1] or 4) + 1) * 512
offset, length = struct.unpack_from("<II", img, 0x248)
payload = img[start + offset:start + offset + length]
if payload.startswith(b"\xfd7zXZ\x00"):
    elf = lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(payload)
elif payload.startswith(b"\x28\xb5\x2f\xfd"):
    # the kernel build appends the 4-byte uncompressed size
    elf = subprocess.run(["zstd", "-dcq"], input=payload[:-4], check=True,
                         stdout=subprocess.PIPE).stdout
elif payload.startswith(b"\x1f\x8b"):
    elf = zlib.decompressobj(31).decompress(payload)
else:
    sys.exit(f"{src}: unknown payload compression {payload[:4]!r}")
if elf[:4] != b"\x7fELF":
    sys.exit(f"{src}: payload is not an ELF kernel")
with open(dst, "wb") as f:
    f.write(elf)
EOF
	mv "$elf.part" "$elf"
}

if [ -n "$print_entry" ]; then
	line="$(find_deb822 "$print_entry")"
	[ -n "$line" ] || line="$(find_oneline "$print_entry")"
	[ -n "$line" ] || die "no enabled '$print_entry' entry in $apt_etc"
	echo "$line"
	exit 0
fi

if [ -n "$vmlinux_dir" ]; then
	make_vmlinux "$vmlinux_dir"
	exit 0
fi

if [ "$print_source" = 1 ]; then
	if backports_configured; then
		log "$backports already in the apt sources"
	else
		backports_stanza
	fi
	exit 0
fi

# --- checks ---------------------------------------------------------------

[ "$(id -u)" = 0 ] || die "must run as root"
export DEBIAN_FRONTEND=noninteractive

if [ -r /etc/os-release ]; then
	# shellcheck disable=SC1091
	os_codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
	if [ "$os_codename" != "$codename" ]; then
		die "this script targets Debian 12 ($codename), found '${os_codename:-unknown}'"
	fi
fi

pkg_installed() {
	[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = "install ok installed" ]
}

qemu_major() {
	local out v
	if ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
		echo 0
		return
	fi
	out="$(qemu-system-x86_64 --version 2>/dev/null || true)"
	v="$(sed -n 's/^QEMU emulator version \([0-9]*\)\..*/\1/p' <<<"$out")"
	echo "${v:-0}"
}


kernel_ok() { # $1: link name; true when it points at an unpacked kernel
	local d="$cache/$1"
	[ -d "$d/lib/modules" ] && [ -n "$(first_file "$d/boot/vmlinuz-*")" ] &&
		[ -n "$(first_file "$d/boot/vmlinux-*")" ]
}

report() {
	local k d out
	out="$(qemu-system-x86_64 --version)"
	log "qemu: ${out%%$'\n'*} (package $(dpkg-query -W -f='${Version}' qemu-system-x86))"
	log "busybox: $(dpkg-query -W -f='${Version}' busybox-static)"
	for k in linux-6.1 linux-6.12; do
		d="$cache/$k"
		log "$k: $(readlink -f "$d") ($(cd "$d/boot" && echo vmlinu[xz]-*))"
	done
}

all_present() {
	local p
	for p in "${host_pkgs[@]}" "${backports_pkgs[@]}"; do
		pkg_installed "$p" || return 1
	done
	[ "$(qemu_major)" -ge "$min_qemu_major" ] || return 1
	kernel_ok linux-6.1 && kernel_ok linux-6.12
}

# --- fast path: everything there -----------------------------------------

if [ "$refresh" = 0 ] && all_present; then
	log "everything present (use --refresh to look for newer kernels)"
	report
	exit 0
fi

# --- apt ------------------------------------------------------------------

if backports_configured; then
	log "$backports already in the apt sources"
else
	stanza="$(backports_stanza)"
	if [ ! -f "$our_sources" ] || [ "$(cat "$our_sources")" != "$stanza" ]; then
		printf '%s\n' "$stanza" >"$our_sources"
		log "wrote $our_sources (mirror taken from the $codename entry)"
	fi
fi

log "apt-get update"
apt-get update -q

missing=()
for p in "${host_pkgs[@]}"; do
	pkg_installed "$p" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	log "installing ${missing[*]}"
	apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if [ "$refresh" = 1 ] || ! pkg_installed qemu-system-x86 ||
	[ "$(qemu_major)" -lt "$min_qemu_major" ]; then
	log "installing ${backports_pkgs[*]} from $backports"
	apt-get install -y -q --no-install-recommends -t "$backports" \
		"${backports_pkgs[@]}"
fi
major="$(qemu_major)"
[ "$major" -ge "$min_qemu_major" ] ||
	die "qemu-system-x86_64 is version $major, need >= $min_qemu_major"

# --- kernels --------------------------------------------------------------

# Prints the linux-image-<kver>-amd64 package that linux-image-amd64 depends
# on: $1 = "" for the normal candidate, else a release (suite) name.
kernel_pkg_for() {
	local spec=linux-image-amd64 deps
	[ -z "$1" ] || spec="linux-image-amd64/$1"
	deps="$(apt-cache depends "$spec" 2>/dev/null || true)"
	awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }' \
		<<<"$deps"
}


# $1 link name, $2 kernel series (6.1...), $3 release ("" = the candidate)
fetch_kernel() {
	local link="$1" series="$2" rel="$3" pkg ver dir deb madison
	if [ "$refresh" = 0 ] && kernel_ok "$link"; then
		return 0
	fi
	pkg="$(kernel_pkg_for "$rel")"
	if [ -z "$rel" ] && [[ "$pkg" != linux-image-"$series".* ]]; then
		# the candidate is not Debian 12's own kernel (pinning?)
		rel="$codename"
		pkg="$(kernel_pkg_for "$rel")"
	fi
	[[ "$pkg" == linux-image-"$series".* ]] ||
		die "linux-image-amd64${rel:+/$rel} depends on '${pkg:-nothing}', not a $series kernel"
	if [ -n "$rel" ]; then
		madison="$(apt-cache madison "$pkg")"
		ver="$(awk -v r=" $rel/" 'index($0, r) { print $3; exit }' <<<"$madison")"
	else
		madison="$(apt-cache policy "$pkg")"
		ver="$(awk '$1 == "Candidate:" { print $2; exit }' <<<"$madison")"
	fi
	if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
		die "no version of $pkg available"
	fi
	dir="$cache/kernels/${pkg}_${ver}"
	if [ ! -d "$dir/boot" ]; then
		log "downloading $pkg $ver"
		mkdir -p "$cache/kernels"
		tmp="$(mktemp -d "$cache/download.XXXXXX")"
		# apt's download sandbox user must be able to write there
		if id _apt >/dev/null 2>&1; then
			chown _apt "$tmp"
		fi
		(cd "$tmp" && apt-get download -q "$pkg=$ver")
		deb="$(first_file "$tmp/*.deb")"
		[ -n "$deb" ] || die "apt-get download $pkg gave no .deb"
		rm -rf "$dir.part"
		dpkg-deb -x "$deb" "$dir.part"
		mv "$dir.part" "$dir"
		rm -rf "$tmp"
		tmp=
	fi
	make_vmlinux "$dir"
	ln -sfn "kernels/${pkg}_${ver}" "$cache/$link"
	kernel_ok "$link" || die "$dir holds no kernel image"
}

mkdir -p "$cache"
fetch_kernel linux-6.1 6.1 ""
fetch_kernel linux-6.12 6.12 "$backports"

report
