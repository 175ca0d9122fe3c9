/* SPDX-License-Identifier: MIT */
#pragma once

/* Print what this host supports; 0 when everything, 6 when something is not. */
int doctor_main(void);
