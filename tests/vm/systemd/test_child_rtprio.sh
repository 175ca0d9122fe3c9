#!/bin/sh
# tests/integration/test_child_rtprio.sh where root may raise
# RLIMIT_RTPRIO (CAP_SYS_RESOURCE), as systemd does for sabot-run@.service
# (LimitRTPRIO=1): the launched target, the exec probe and stress-ng must
# not inherit it.
exec sh "$(dirname "$0")/../../integration/test_child_rtprio.sh"
