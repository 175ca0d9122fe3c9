/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

/* Print what this host supports (with json, as a JSON document); 0 when
 * everything, 6 when something is not. */
int doctor_main(bool json);
