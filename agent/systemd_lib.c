/* SPDX-License-Identifier: MIT */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "systemd_lib.h"
#include "util.h"

struct systemd_lib sdl;

int systemd_lib_load(char *why, size_t len) {
        static void *handle;
        if (handle)
                return 0;
        void *h = dlopen(SYSTEMD_LIB_SONAME, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
                snprintf(why, len, "cannot load %s (%s); install libsystemd0", SYSTEMD_LIB_SONAME, dlerror());
                return -ENOENT;
        }
        static const struct {
                const char *name;
                size_t off;
        } syms[] = {
#define SYM(field, name) {name, offsetof(struct systemd_lib, field)}
                SYM(journal_sendv, "sd_journal_sendv"),
                SYM(bus_open_system, "sd_bus_open_system"),
                SYM(bus_set_method_call_timeout, "sd_bus_set_method_call_timeout"),
                SYM(bus_call_method, "sd_bus_call_method"),
                SYM(bus_error_has_name, "sd_bus_error_has_name"),
                SYM(bus_message_read, "sd_bus_message_read"),
                SYM(bus_get_property_string, "sd_bus_get_property_string"),
                SYM(bus_get_property_trivial, "sd_bus_get_property_trivial"),
                SYM(bus_message_unref, "sd_bus_message_unref"),
                SYM(bus_error_free, "sd_bus_error_free"),
                SYM(bus_flush_close_unref, "sd_bus_flush_close_unref"),
#undef SYM
        };
        struct systemd_lib l = {0};
        for (size_t i = 0; i < ELEMENTSOF(syms); i++) {
                void *p = dlsym(h, syms[i].name);
                if (!p) {
                        /* sd_bus_set_method_call_timeout came in systemd 240. */
                        snprintf(why, len, "%s lacks %s; systemd 240 or later is needed", SYSTEMD_LIB_SONAME,
                                 syms[i].name);
                        dlclose(h);
                        return -ENOENT;
                }
                memcpy((char *)&l + syms[i].off, &p, sizeof p);
        }
        sdl = l;
        handle = h;
        return 0;
}

bool systemd_booted(void) {
        /* What sd_booted(3) tests. */
        return access("/run/systemd/system/", F_OK) == 0;
}

int systemd_bus_open(sd_bus **ret) {
        char why[256];
        if (!systemd_booted() || systemd_lib_load(why, sizeof why) < 0)
                return -EHOSTUNREACH;
        sd_bus *bus = NULL;
        if (sdl.bus_open_system(&bus) < 0)
                return -EHOSTUNREACH;
        (void)sdl.bus_set_method_call_timeout(bus, 2 * 1000 * 1000);
        *ret = bus;
        return 0;
}

void systemd_bus_close(sd_bus *bus) {
        if (bus)
                sdl.bus_flush_close_unref(bus);
}

int systemd_unit_path(sd_bus *bus, const char *unit, char **ret) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message *m = NULL;
        int r = sdl.bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                    "org.freedesktop.systemd1.Manager", "GetUnit", &e, &m, "s", unit);
        if (r < 0) {
                /* Not loaded. */
                if (sdl.bus_error_has_name(&e, "org.freedesktop.systemd1.NoSuchUnit"))
                        r = -ENOENT;
                goto out;
        }
        const char *path;
        r = sdl.bus_message_read(m, "o", &path);
        if (r >= 0 && !(*ret = strdup(path)))
                r = -ENOMEM;
out:
        sdl.bus_message_unref(m);
        sdl.bus_error_free(&e);
        return r < 0 ? r : 0;
}

int systemd_unit_property(sd_bus *bus, const char *unit, const char *iface, const char *prop, char **ret) {
        _cleanup_free_ char *path = NULL;
        int r = systemd_unit_path(bus, unit, &path);
        if (r < 0)
                return r;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        r = sdl.bus_get_property_string(bus, "org.freedesktop.systemd1", path, iface, prop, &e, ret);
        sdl.bus_error_free(&e);
        return r < 0 ? r : 0;
}
