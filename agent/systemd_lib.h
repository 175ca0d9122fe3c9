/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include <systemd/sd-bus.h>

/* libsystemd, loaded at run time by what talks to systemd (journald
 * logging, a unit's cgroup, the service kind), not linked: with the
 * libraries it pulls in (libgcrypt, libgpg-error, liblzma, libzstd, liblz4,
 * libcap) it is the largest part of the dynamic loader's work at every
 * process start, and `sabot abort`, the kill switch, is a process start
 * that talks to none of them before its reverts are done. */
struct systemd_lib {
        int (*journal_sendv)(const struct iovec *iov, int n);
        int (*bus_open_system)(sd_bus **ret);
        int (*bus_set_method_call_timeout)(sd_bus *bus, uint64_t usec);
        int (*bus_call_method)(sd_bus *bus, const char *destination, const char *path, const char *interface,
                               const char *member, sd_bus_error *ret_error, sd_bus_message **reply,
                               const char *types, ...);
        int (*bus_error_has_name)(const sd_bus_error *e, const char *name);
        int (*bus_message_read)(sd_bus_message *m, const char *types, ...);
        int (*bus_get_property_string)(sd_bus *bus, const char *destination, const char *path,
                                       const char *interface, const char *member, sd_bus_error *ret_error,
                                       char **ret);
        int (*bus_get_property_trivial)(sd_bus *bus, const char *destination, const char *path,
                                        const char *interface, const char *member, sd_bus_error *ret_error,
                                        char type, void *ret);
        sd_bus_message *(*bus_message_unref)(sd_bus_message *m);
        void (*bus_error_free)(sd_bus_error *e);
        sd_bus *(*bus_flush_close_unref)(sd_bus *bus);
};

extern struct systemd_lib sdl;

/* The soname loaded; packaging names its package as a dependency. */
#define SYSTEMD_LIB_SONAME "libsystemd.so.0"

/* Load it once; 0, or -ENOENT and why. */
int systemd_lib_load(char *why, size_t len);

/* Whether systemd is the init system (sd_booted's test), without the
 * library. */
bool systemd_booted(void);

/* The system bus with a 2 s method-call timeout (a hung PID 1 must not
 * hold up a run or a revert for sd-bus's 25 s): 0, or -EHOSTUNREACH when
 * systemd is not PID 1, the library is missing or the bus is not there. */
int systemd_bus_open(sd_bus **ret);

/* Closes what systemd_bus_open opened; NULL is fine. */
void systemd_bus_close(sd_bus *bus);

/* The object path of a loaded unit (GetUnit): 0 with *ret (free it),
 * -ENOENT when systemd knows no such unit, another negative errno when it
 * could not be asked. */
int systemd_unit_path(sd_bus *bus, const char *unit, char **ret);

/* A string property of a loaded unit (GetUnit, then the property on
 * iface): 0 with *ret (free it), -ENOENT when systemd knows no such unit,
 * another negative errno when it could not be asked. */
int systemd_unit_property(sd_bus *bus, const char *unit, const char *iface, const char *prop, char **ret);
