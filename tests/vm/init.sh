#!/bin/sh
# /init of the VM tier's initramfs (busybox sh): mount what the tests need,
# run the VM tier with the project's runner, print its status, power off.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export SABOT_VM=1 HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /run /tmp /sys/fs/bpf /sys/fs/cgroup /root
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mount -t bpf bpf /sys/fs/bpf
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
ip() { /usr/sbin/ip "$@"; }
exec </dev/console >/dev/console 2>&1
mods=none
[ -e /proc/modules ] && mods=$(wc -l < /proc/modules)
# The host shows the console from this line on (tests/vm/run-vm.sh).
echo "sabot-vm: kernel $(uname -r), lsm $(cat /sys/kernel/security/lsm 2>/dev/null)," \
	"lockdown $(sed -n 's/.*\[\(.*\)\].*/\1/p' /sys/kernel/security/lockdown 2>/dev/null)," \
	"modules loaded: $mods, up $(cut -d' ' -f1 /proc/uptime)s"
ip link set lo up
cd /sabot
SABOT=/sabot/build/asan/sabot BUILD=/sabot/build TESTDIR=/sabot/tests/vm CHECKDIR=/sabot/build/tests/vm \
	TESTLIB=/sabot/tests/integration/lib.sh sh /sabot/tests/vm/run-guest.sh
echo "SABOT-VM-EXIT=$? up=$(cut -d' ' -f1 /proc/uptime)s"
sync
poweroff -f
