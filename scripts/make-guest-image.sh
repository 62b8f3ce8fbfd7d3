#!/usr/bin/env bash
# Builds a Debian 12 guest for tessera: an ext4 root filesystem image plus
# the kernel and initramfs to boot it directly (QEMU -kernel/-initrd; no
# bootloader, so no loop device or partition table is needed to build it):
#
#   OUT           raw ext4 root filesystem (the guest's /dev/vda), sparse
#   OUT.vmlinuz   the guest's kernel (bzImage)
#   OUT.vmlinux   the same kernel uncompressed (ELF, booted through PVH:
#                 seconds faster under TCG; works under KVM too)
#   OUT.initrd    its initramfs (virtio and ext4 modules only)
#   OUT.ini       a [vm guest] section for tessera.ini(5) that boots it
#
# Inside: Debian 12 with its kernel, systemd, Mesa, Xwayland, foot and
# weston's clients; a user "guest" logged in automatically on tty1 whose
# systemd user session runs tessera-agent.service (the agent's unit and
# environment file) and tessera-foot.service (a foot terminal once the
# agent's socket is there). No network. Boot-time units that only wait
# (networkd-wait-online, apt's and e2scrub's timers...) are masked.
#
# The packages come from the machine's own apt sources: the mirror of its
# "bookworm" entry (and of bookworm-updates/-security when it has them),
# read at run time by scripts/install-vm-deps.sh --print-entry.
#
# The agent comes from its Debian package: tessera-agent_*.deb given with
# --agent-deb, else built by scripts/build-packages.sh (minutes), installed
# with dpkg in the guest (its Depends are in the base system). With
# --build-dir DIR instead (development, tests/vm/test_guest_image.py):
# install_agent_from_build copies tessera-agent, its user unit and
# environment file from `meson install --destdir` of that meson build
# directory, and the base system gets the packages of the libraries the
# binary links to.
#
# Caches, in $TESSERA_VM_CACHE (default /var/cache/tessera-vm):
#   guest-base/KEY/   the bootstrapped system (rootfs/ and kernel/), KEY =
#                     hash of this script, the apt entries and the package
#                     list; built again only when one of them changes
#   guest-apt/        downloaded .deb files, reused between builds and by
#                     tests/packaging's chroot (under guest-image.lock)
# OUT is rebuilt only when the base or the agent's files changed
# (OUT.stamp); --refresh rebuilds everything. Prints the size and the
# build time. Runs as root (mmdebstrap, mkfs.ext4 -d keep owners).
#
#   scripts/make-guest-image.sh [--agent-deb FILE | --build-dir DIR] [--refresh] OUT
set -euo pipefail

prog=make-guest-image.sh
here="$(cd "$(dirname "$0")/.." && pwd)"
cache="${TESSERA_VM_CACHE:-/var/cache/tessera-vm}"
codename=bookworm
user=guest
append="root=/dev/vda rw console=ttyS0 quiet"
# foot's background in the guest (tests/vm/test_guest_image.py looks for it)
foot_background=264653
packages=(
	linux-image-amd64 initramfs-tools systemd-sysv libpam-systemd udev dbus
	dbus-user-session kmod passwd login procps less
	libgl1-mesa-dri libegl-mesa0 libgles2 libgbm1
	xwayland foot weston fonts-dejavu-core
	# what tessera-agent links to (ldd; its package's Depends are among them)
	libbsd0 libc6 libcap2 libdrm2 libegl1 libevdev2 libexpat1 libffi8 libgbm1
	libgcrypt20 libgles2 libglib2.0-0 libglvnd0 libgpg-error0 libgudev-1.0-0
	libinput10 liblz4-1 liblzma5 libmd0 libmtdev1 libpcre2-8-0 libpixman-1-0
	libseat1 libsystemd0 libudev1 libwacom9 libwayland-client0
	libwayland-server0 libwlroots10 libxau6 libxcb-composite0 libxcb-dri3-0
	libxcb-icccm4 libxcb-present0 libxcb-render-util0 libxcb-render0
	libxcb-res0 libxcb-shm0 libxcb-xfixes0 libxcb-xinput0 libxcb1 libxdmcp6
	libxkbcommon0 libzstd1
)
masked=(
	systemd-networkd-wait-online.service apt-daily.timer
	apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service
	fstrim.timer man-db.timer dpkg-db-backup.timer
	systemd-timesyncd.service serial-getty@ttyS0.service
)

build_dir=
agent_deb=
refresh=0
out=
while [ $# -gt 0 ]; do
	case "$1" in
	--build-dir|--agent-deb)
		[ $# -ge 2 ] || { echo "$prog: $1 needs an argument" >&2; exit 2; }
		if [ "$1" = --build-dir ]; then build_dir="$2"; else agent_deb="$2"; fi
		shift ;;
	--refresh) refresh=1 ;;
	-h|--help) sed -n '2,/^set -euo pipefail/{/^set/!p}' "$0"; exit 0 ;;
	-*) echo "$prog: unknown option '$1'" >&2; exit 2 ;;
	*)
		[ -z "$out" ] || { echo "$prog: more than one OUT" >&2; exit 2; }
		out="$1" ;;
	esac
	shift
done
[ -n "$out" ] || { echo "usage: $prog [--agent-deb FILE | --build-dir DIR] [--refresh] OUT" >&2; exit 2; }
[ -z "$build_dir" ] || [ -z "$agent_deb" ] || { echo "$prog: --agent-deb or --build-dir, not both" >&2; exit 2; }

log() { echo "$prog: $*"; }
die() { echo "$prog: error: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "cannot build the image: must run as root (mmdebstrap, mkfs.ext4 -d)"
for tool in mmdebstrap mkfs.ext4; do
	command -v "$tool" >/dev/null ||
		die "cannot build the image: no $tool (run scripts/install-vm-deps.sh)"
done
case "$out" in
*,*|*[[:space:]]*) die "cannot use '$out': QEMU's -drive cannot take a path with ',' or spaces" ;;
esac
out="$(realpath -m "$out")"
mkdir -p "$(dirname "$out")" "$cache"

started=$SECONDS
tmp="$(mktemp -d "${TMPDIR:-/tmp}/tessera-image.XXXXXX")"
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT

# One build at a time per cache (a test and the demo may ask together).
exec 9>"$cache/guest-image.lock"
flock 9

# --- the agent ------------------------------------------------------------

# --build-dir: meson install of that build directory into a staging tree,
# of which the agent's files are kept (the agent under test, no package).
install_agent_from_build() { # $1 = destination tree
	local stage="$tmp/meson-install" f
	[ -f "$build_dir/build.ninja" ] ||
		die "cannot install the agent: $build_dir is not a meson build directory (--build-dir)"
	ninja -C "$build_dir" guest-agent/tessera-agent >/dev/null ||
		die "cannot build tessera-agent in $build_dir"
	rm -rf "$stage"
	meson install -C "$build_dir" --no-rebuild --quiet --destdir "$stage" >/dev/null ||
		die "cannot meson install $build_dir"
	local want=(bin/tessera-agent lib/systemd/user/tessera-agent.service
		lib/environment.d/60-tessera-agent.conf)
	for f in "${want[@]}"; do
		local found
		found="$(cd "$stage" && find . -path "*/$f" -print -quit)"
		[ -n "$found" ] || die "cannot find $f in meson install of $build_dir"
		install -D -m "$([ "${f%%/*}" = bin ] && echo 755 || echo 644)" \
			"$stage/$found" "$1/${found#./}"
	done
}

agent_tree="$tmp/agent"
if [ -n "$build_dir" ]; then
	install_agent_from_build "$agent_tree"
	agent_bin="$(cd "$agent_tree" && find . -path '*/bin/tessera-agent' -print -quit)"
	agent_unit="$(cd "$agent_tree" && find . -name tessera-agent.service -print -quit)"
else
	if [ -z "$agent_deb" ]; then
		log "building the Debian packages (scripts/build-packages.sh)"
		"$here/scripts/build-packages.sh" "$tmp/debs" >&2 ||
			die "cannot build the agent's package"
		agent_deb="$(ls "$tmp"/debs/tessera-agent_*.deb | head -n 1)"
	fi
	[ -f "$agent_deb" ] || die "cannot read the agent's package '$agent_deb'"
	[ "$(dpkg-deb -f "$agent_deb" Package 2>/dev/null)" = tessera-agent ] ||
		die "cannot use '$agent_deb': not a tessera-agent package"
	# hashed for OUT's stamp; installed by dpkg in the guest
	mkdir -p "$agent_tree/var/cache/tessera-agent"
	cp "$agent_deb" "$agent_tree/var/cache/tessera-agent/tessera-agent.deb"
fi

# The Debian packages of the libraries the agent links to (one dpkg -S for
# all: a library may be listed under /lib or /usr/lib, merged /usr).
agent_libs() {
	local libs=() names=() lib real owners
	mapfile -t libs < <(ldd "$agent_tree/$agent_bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }')
	[ "${#libs[@]}" -gt 0 ] || die "cannot list the libraries of tessera-agent (ldd)"
	for lib in "${libs[@]}"; do
		real="$(realpath "$lib")"
		names+=("$lib" "$real" "/usr${lib#/usr}" "/usr${real#/usr}" "${lib#/usr}" "${real#/usr}")
	done
	owners="$(dpkg-query -S "${names[@]}" 2>/dev/null || true)"
	for lib in "${libs[@]}"; do
		local base="${lib##*/}" pkg
		pkg="$(awk -v b="$base" -F': ' '{ n = split($2, p, "/"); if (p[n] == b) { print $1; exit } }' <<<"$owners")"
		[ -n "$pkg" ] || die "cannot find the Debian package of $lib (linked by tessera-agent)"
		echo "${pkg%%:*}"
	done | sort -u
}
# The base must hold them (dpkg -i of the package checks its Depends).
if [ -n "$build_dir" ]; then
	agent_libs >"$tmp/agent-libs" || exit 1
	for p in $(cat "$tmp/agent-libs"); do
		[[ " ${packages[*]} " == *" $p "* ]] ||
			die "tessera-agent links to a library of '$p', which the guest's package list lacks"
	done
fi

# --- apt entries from the machine's sources -------------------------------

mirrors=()
for suite in "$codename" "$codename-updates" "$codename-security"; do
	entry="$("$here/scripts/install-vm-deps.sh" --print-entry "$suite" 2>/dev/null)" || {
		[ "$suite" != "$codename" ] || die "cannot find the machine's '$codename' apt entry in /etc/apt"
		continue
	}
	uri="${entry%%$'\t'*}"
	signed="${entry#*$'\t'}"
	mirrors+=("deb ${signed:+[signed-by=$signed] }$uri $suite main")
done

# --- the base system (cached) ---------------------------------------------


write_customize() { # the customize hook: runs on the host, $1 = the root
	cat <<EOF
#!/bin/sh
set -eu
r="\$1"
echo tessera-guest >"\$r/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 tessera-guest\n' >"\$r/etc/hosts"
echo '/dev/vda / ext4 rw,relatime 0 1' >"\$r/etc/fstab"
echo LANG=C.UTF-8 >"\$r/etc/default/locale"
chroot "\$r" useradd --create-home --shell /bin/bash --groups render,video,input $user
# tty1: the user logged in at boot, so its systemd user session starts
mkdir -p "\$r/etc/systemd/system/getty@tty1.service.d"
cat >"\$r/etc/systemd/system/getty@tty1.service.d/autologin.conf" <<'UNIT'
[Service]
ExecStart=
ExecStart=-/sbin/agetty --autologin $user --noclear %I \$TERM
UNIT
# the virtio-gpu render node before the user session (the agent's unit
# has ConditionPathExistsGlob=/dev/dri/renderD*)
echo virtio_gpu >"\$r/etc/modules-load.d/tessera-virtio-gpu.conf"
for u in ${masked[*]}; do ln -sf /dev/null "\$r/etc/systemd/system/\$u"; done
mkdir -p "\$r/etc/xdg/foot"
printf '[colors]\nbackground=$foot_background\n' >"\$r/etc/xdg/foot/foot.ini"
cat >"\$r/etc/systemd/user/tessera-foot.service" <<'UNIT'
# A foot terminal in the guest, on the host's desktop through tessera-agent
[Unit]
Description=foot terminal on tessera
After=tessera-agent.service
BindsTo=tessera-agent.service

[Service]
ExecStartPre=/bin/sh -c 'n=0; until [ -S "\$XDG_RUNTIME_DIR/\$WAYLAND_DISPLAY" ]; do [ \$n -lt 300 ] || exit 1; n=\$((n + 1)); sleep 0.1; done'
ExecStart=/usr/bin/foot
Restart=on-failure
RestartSec=1

[Install]
WantedBy=tessera-agent.service
UNIT
mkdir -p "\$r/etc/systemd/user/tessera-agent.service.wants"
ln -sf /etc/systemd/user/tessera-foot.service \
	"\$r/etc/systemd/user/tessera-agent.service.wants/tessera-foot.service"
rm -rf "\$r/var/lib/apt/lists/"*_* "\$r/var/cache/apt/"*.bin
EOF
}

apt_cache="$cache/guest-apt"
mkdir -p "$apt_cache"
# initramfs-tools: only the modules a virtio disk with ext4 needs (written
# before the kernel is installed, which builds the initrd); downloaded
# packages kept in $apt_cache
mm_opts=(
	--variant=apt --include="$(IFS=,; echo "${packages[*]}")"
	--dpkgopt='path-exclude=/usr/share/doc/*'
	--dpkgopt='path-include=/usr/share/doc/*/copyright'
	--dpkgopt='path-exclude=/usr/share/man/*'
	--dpkgopt='path-exclude=/usr/share/locale/*'
	--skip=download/empty --skip=essential/unlink
	--setup-hook='mkdir -p "$1"/var/cache/apt/archives/'
	--setup-hook="sync-in $apt_cache /var/cache/apt/archives/"
	--essential-hook='mkdir -p "$1"/etc/initramfs-tools/conf.d "$1"/usr/share/initramfs-tools/modules.d'
	--essential-hook='echo MODULES=list >"$1"/etc/initramfs-tools/conf.d/tessera-guest'
	--essential-hook='printf "virtio_pci\nvirtio_blk\next4\n" >"$1"/usr/share/initramfs-tools/modules.d/tessera-guest'
	--customize-hook="sync-out /var/cache/apt/archives $apt_cache"
	--customize-hook='rm -f "$1"/var/cache/apt/archives/*.deb'
)
write_customize >"$tmp/customize.sh"
chmod +x "$tmp/customize.sh"
# The base is what these make: the options, the customize hook, the sources.
key="$( { printf '%s\n' "${mm_opts[@]}" "${mirrors[@]}"; cat "$tmp/customize.sh"; } |
	sha256sum | cut -c1-16)"
base="$cache/guest-base/$key"

build_base() {
	log "bootstrapping Debian $codename into $base (${#packages[@]} packages)"
	rm -rf --one-file-system "$base.part"
	mkdir -p "$base.part"
	mmdebstrap "${mm_opts[@]}" --customize-hook="$tmp/customize.sh" \
		"$codename" "$base.part/rootfs" "${mirrors[@]}" \
		>"$tmp/mmdebstrap.log" 2>&1 || {
		tail -n 40 "$tmp/mmdebstrap.log" >&2
		die "cannot bootstrap the guest (mmdebstrap failed; its last lines above)"
	}
	mkdir -p "$base.part/kernel/boot"
	local k f
	for k in vmlinuz initrd.img; do
		f="$(cd "$base.part/rootfs/boot" && ls $k-* 2>/dev/null | head -n 1)"
		[ -n "$f" ] || die "cannot find /boot/$k-* in the guest"
		cp "$base.part/rootfs/boot/$f" "$base.part/kernel/boot/$f"
	done
	"$here/scripts/install-vm-deps.sh" --vmlinux "$base.part/kernel" >/dev/null
	mv "$base.part" "$base"
	# older bases are not used any more
	find "$cache/guest-base" -mindepth 1 -maxdepth 1 ! -name "$key" \
		-exec rm -rf --one-file-system {} +
}

if [ "$refresh" = 1 ]; then
	rm -rf --one-file-system "$base"
fi
base_from="cache"
if [ ! -d "$base" ]; then
	build_base
	base_from="built"
fi

# --- OUT: the base, the agent, mkfs.ext4 -d --------------------------------

stamp="$( { echo "$key"; (cd "$agent_tree" && find . -type f -print0 | sort -z |
	xargs -0 sha256sum); } | sha256sum | cut -c1-16)"
if [ "$refresh" = 0 ] && [ -f "$out" ] && [ "$(cat "$out.stamp" 2>/dev/null)" = "$stamp" ]; then
	log "$out is up to date (base $key, agent unchanged)"
else
	stage="$tmp/root"
	if [ -n "$build_dir" ]; then
		cp -al "$base/rootfs" "$stage"  # hard links: only new files are added
		cp -a "$agent_tree/." "$stage/"
		mkdir -p "$stage/etc/systemd/user/default.target.wants"
		ln -sf "/${agent_unit#./}" "$stage/etc/systemd/user/default.target.wants/tessera-agent.service"
	else
		cp -a "$base/rootfs" "$stage"  # a copy: dpkg changes files in place
		deb=/var/cache/tessera-agent/tessera-agent.deb
		install -D -m 644 "$agent_tree$deb" "$stage$deb"
		chroot "$stage" dpkg -i "$deb" >"$tmp/dpkg.log" 2>&1 || {
			cat "$tmp/dpkg.log" >&2
			die "cannot install the agent's package in the guest"
		}
		rm -rf "${stage:?}/var/cache/tessera-agent"
		# the package enables the unit for every user; make sure
		[ -e "$stage/etc/systemd/user/default.target.wants/tessera-agent.service" ] || {
			mkdir -p "$stage/etc/systemd/user/default.target.wants"
			ln -sf /usr/lib/systemd/user/tessera-agent.service \
				"$stage/etc/systemd/user/default.target.wants/tessera-agent.service"
		}
		log "installed $(dpkg-deb -f "$agent_deb" Package) $(dpkg-deb -f "$agent_deb" Version) from its package"
	fi
	used=$(du -s --block-size=1M "$stage" | cut -f1)
	size=$((used * 5 / 4 + 512))  # room for the journal, /home, packages
	rm -f "$out.part"
	truncate -s "${size}M" "$out.part"
	mkfs.ext4 -q -F -L tessera-guest -d "$stage" "$out.part" ||
		die "cannot make the ext4 filesystem $out.part"
	rm -rf "$stage"
	boot="$base/kernel/boot"
	cp "$boot"/vmlinuz-* "$out.vmlinuz.part" && mv "$out.vmlinuz.part" "$out.vmlinuz"
	cp "$boot"/vmlinux-* "$out.vmlinux.part" && mv "$out.vmlinux.part" "$out.vmlinux"
	cp "$boot"/initrd.img-* "$out.initrd.part" && mv "$out.initrd.part" "$out.initrd"
	mv "$out.part" "$out"
	cat >"$out.ini" <<EOF
# tessera.ini(5) section for $out (made by $prog).
# Direct kernel boot: the root filesystem is QEMU's first virtio disk.
[vm guest]
color = #2e7d32
kernel = $out.vmlinux
initrd = $out.initrd
append = $append
qemu-args = -drive file=$out,format=raw,if=virtio
memory = 1G
EOF
	echo "$stamp" >"$out.stamp"
fi

apparent=$(du -s --apparent-size --block-size=1M "$out" | cut -f1)
allocated=$(du -s --block-size=1M "$out" | cut -f1)
log "image: $out (${apparent} MiB, ${allocated} MiB allocated), kernel $(basename "$base"/kernel/boot/vmlinuz-*)"
log "base system: $base_from ($key)"
log "build time: $((SECONDS - started)) s"
