#!/bin/sh
# VM tier: the demo on a stock kernel, where its latency step runs too
# (netem); the same test as the host tier's tests/integration/test_demo.sh.
# What the kernel lacks, the demo itself reports and skips (as on a host).
. "$(dirname "$0")/vmlib.sh"
load_modules veth sch_netem ifb act_mirred cls_bpf sch_ingress >/dev/null
. "$(dirname "$0")/../integration/test_demo.sh"
