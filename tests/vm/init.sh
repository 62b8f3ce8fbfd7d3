#!/bin/sh
# /init of the real-VM test tier's initramfs (busybox sh; see mkinitramfs.py).
#
# Kernel command line (all optional):
#   tessera.results=PATH   host directory shared writable over 9p (tag
#                          "results"); it holds cmd.sh, the command to run.
#                          Mounted in the guest at /results and at PATH
#                          inside the host-root chroot.
#   tessera.modules=a,b    more modules to modprobe (e.g. vgem)
#   tessera.shell=1        start a shell on the console instead of powering
#                          off when there is no command (interactive use)
#   tessera.keep=a,b       host directories under /tmp or /run (the project
#                          tree, its build directory) that stay visible,
#                          read-only, at their paths inside the chroot
#                          although the guest mounts its own /tmp and /run
#
# The host root comes read-only over 9p (tag "hostroot") at /host. cmd.sh
# runs chrooted into it with the guest's own /proc, /sys, /dev, /tmp and
# /run mounted over the host's; its output goes to the console and to
# results/output, its exit status to results/status. Then: poweroff -f.
#
# Console markers (the host side parses them): "TESSERA-VM: <event> ...".

PATH=/bin
export PATH

/bin/busybox mount -t proc proc /proc
read -r boot_up _ </proc/uptime
echo "TESSERA-VM: init up $boot_up"

mark() { echo "TESSERA-VM: $*"; }
die() {
	mark "error $*"
	[ -d /results/. ] && echo "$*" >/results/init-error
	sync
	poweroff -f
}

mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /tmp

results=
extra_mods=
shell=0
keep=
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	tessera.results=*) results="${arg#tessera.results=}" ;;
	tessera.modules=*) extra_mods="$(echo "${arg#tessera.modules=}" | tr , ' ')" ;;
	tessera.shell=1) shell=1 ;;
	tessera.keep=*) keep="$(echo "${arg#tessera.keep=}" | tr , ' ')" ;;
	esac
done

kver="$(cat /etc/tessera-kernel)"
for m in $(cat /etc/tessera-modules) $extra_mods; do
	modprobe "$m" || mark "modprobe $m failed"
done
read -r up _ </proc/uptime
mark "modules loaded $up"

# The 9p transports appear as their virtio devices probe; give them a moment.
mount_9p() { # tag dir options
	i=0
	while ! mount -t 9p -o "trans=virtio,version=9p2000.L,msize=262144,$3" "$1" "$2" 2>/dev/null; do
		i=$((i + 1))
		[ "$i" -ge 50 ] && return 1
		usleep 100000
	done
}

mount_9p hostroot /host ro,cache=loose || die "cannot mount the host root (9p tag hostroot)"
if [ -n "$results" ]; then
	mount_9p results /results "" || die "cannot mount the results share (9p tag results)"
fi

# The chroot: guest pseudo file systems over the host's.
mount -t proc proc /host/proc
mount -t sysfs sysfs /host/sys
mount -t devtmpfs devtmpfs /host/dev
mkdir -p /host/dev/pts /host/dev/shm
mount -t devpts devpts /host/dev/pts
mount -t tmpfs tmpfs /host/dev/shm
# Directories to keep from the host's /tmp and /run: held aside before the
# guest's tmpfs covers them, bound back at the same path afterwards.
for dir in $keep; do
	case "$dir" in /tmp/*|/run/*) ;; *) continue ;; esac
	if [ -d "/host$dir" ]; then
		mkdir -p "/keep$dir"
		mount -o bind "/host$dir" "/keep$dir" || mark "cannot keep $dir"
	fi
done
mount -t tmpfs tmpfs /host/tmp
mount -t tmpfs tmpfs /host/run
mkdir -p /host/run/user/0
chmod 700 /host/run/user/0
for dir in $keep; do
	if [ -d "/keep$dir" ]; then
		mkdir -p "/host$dir"
		mount -o bind "/keep$dir" "/host$dir" || mark "cannot bind $dir back"
	fi
done
if [ -n "$results" ]; then
	# Same path as on the host: under /tmp or /run it is on our tmpfs,
	# elsewhere the directory exists on the (read-only) host root.
	mkdir -p "/host$results" 2>/dev/null
	mount -o bind /results "/host$results" ||
		die "cannot bind the results share at $results"
fi
read -r up _ </proc/uptime
mark "mounts done $up"

if [ -n "$results" ] && [ -f /results/cmd.sh ]; then
	# Output goes through tee to the console and results/output. Whatever
	# the command left running in the background is killed once it exits
	# (it would hold the pipe open and stall the shutdown).
	mkfifo /tmp/output.fifo
	tee /results/output </tmp/output.fifo &
	tee_pid=$!
	read -r up _ </proc/uptime
	mark "cmd start $up"
	chroot /host /usr/bin/env -i \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root TERM=dumb LANG=C.UTF-8 \
		XDG_RUNTIME_DIR=/run/user/0 \
		TESSERA_VM=1 TESSERA_VM_KERNEL="$kver" \
		TESSERA_VM_RESULTS="$results" \
		/bin/sh -c 'cd "$TESSERA_VM_RESULTS" && exec /bin/sh ./cmd.sh' \
		</dev/null >/tmp/output.fifo 2>&1
	status=$?
	echo "$status" >/results/status
	read -r up _ </proc/uptime
	kill_others() { # signal: everything but init and tee
		for p in /proc/[0-9]*; do
			p="${p#/proc/}"
			[ "$p" = 1 ] || [ "$p" = "$tee_pid" ] || kill "-$1" "$p" 2>/dev/null
		done
	}
	kill_others TERM
	i=0
	while kill -0 "$tee_pid" 2>/dev/null && [ "$i" -lt 10 ]; do
		usleep 50000
		i=$((i + 1))
	done
	kill_others KILL
	wait "$tee_pid"
	mark "cmd exit $status $up"
elif [ "$shell" = 1 ]; then
	mark "shell"
	setsid cttyhack sh
else
	mark "no command"
fi

sync
[ -n "$results" ] && umount "/host$results" 2>/dev/null
[ -n "$results" ] && umount /results 2>/dev/null
read -r up _ </proc/uptime
mark "poweroff $up"
poweroff -f
