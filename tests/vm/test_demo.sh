#!/bin/sh
# VM tier: the demo on a stock kernel, where its latency step runs too
# (netem); the same test as the host tier's tests/integration/test_demo.sh.
modprobe veth; modprobe sch_netem; modprobe ifb; modprobe act_mirred; modprobe cls_bpf; modprobe sch_ingress
. "$(dirname "$0")/../integration/test_demo.sh"
