/* SPDX-License-Identifier: MIT */
#pragma once

/* Route libbpf's messages into sabot's log, one level lower than libbpf
 * rates them: its warnings are details of an error we report ourselves. */
void bpf_log_setup(void);
