#!/bin/sh
# The systemd guest's test run, started by systemd (PID 1) as
# sabot-vmtest.service (tests/vm/run-systemd.sh writes the unit): the VM
# tier's runner over tests/vm/systemd/test_*.sh, then the status line the
# host reads, then power off.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin SABOT_VM=1 SABOT_VM_SYSTEMD=1 HOME=/root
# The kernel's command line carries VM_ONLY as SABOT_VM_ONLY=PATTERN[,PATTERN...].
for a in $(cat /proc/cmdline); do
	case $a in SABOT_VM_ONLY=*) export SABOT_VM_ONLY="${a#SABOT_VM_ONLY=}" ;; esac
done
echo "sabot-vm-systemd: kernel $(uname -r), PID 1 is $(cat /proc/1/comm)," \
	"$(systemctl --version | head -n 1), up $(cut -d' ' -f1 /proc/uptime)s"
cd /sabot
SABOT=/sabot/build/asan/sabot BUILD=/sabot/build TESTDIR=/sabot/tests/vm/systemd CHECKDIR=/sabot/build/tests/vm/none \
	TESTLIB=/sabot/tests/integration/lib.sh sh /sabot/tests/vm/run-guest.sh
echo "SABOT-VM-EXIT=$? up=$(cut -d' ' -f1 /proc/uptime)s"
sync
systemctl poweroff --force --force
