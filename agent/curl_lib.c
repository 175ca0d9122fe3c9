/* SPDX-License-Identifier: MIT */
#include <dlfcn.h>
#include <stdbool.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "curl_lib.h"
#include "util.h"

struct curl_lib curl_lib;

int curl_lib_load(char *why, size_t len) {
        static void *handle;
        if (handle)
                return 0;
        void *h = dlopen(CURL_LIB_SONAME, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
                snprintf(why, len, "cannot load %s (%s); install libcurl (Debian: libcurl4)", CURL_LIB_SONAME, dlerror());
                return -ENOENT;
        }
        static const struct {
                const char *name;
                size_t off;
        } syms[] = {
#define SYM(field, name) {name, offsetof(struct curl_lib, field)}
                SYM(global_init, "curl_global_init"),
                SYM(multi_init, "curl_multi_init"),
                SYM(multi_setopt, "curl_multi_setopt"),
                SYM(multi_add_handle, "curl_multi_add_handle"),
                SYM(multi_remove_handle, "curl_multi_remove_handle"),
                SYM(multi_socket_action, "curl_multi_socket_action"),
                SYM(multi_info_read, "curl_multi_info_read"),
                SYM(multi_cleanup, "curl_multi_cleanup"),
                SYM(easy_init, "curl_easy_init"),
                SYM(easy_setopt, "curl_easy_setopt"),
                SYM(easy_getinfo, "curl_easy_getinfo"),
                SYM(easy_escape, "curl_easy_escape"),
                SYM(easy_cleanup, "curl_easy_cleanup"),
                SYM(free, "curl_free"),
                SYM(easy_strerror, "curl_easy_strerror"),
#undef SYM
        };
        struct curl_lib l = {0};
        for (size_t i = 0; i < ELEMENTSOF(syms); i++) {
                void *p = dlsym(h, syms[i].name);
                if (!p) {
                        snprintf(why, len, "%s lacks %s; a libcurl 7.x or later is needed", CURL_LIB_SONAME, syms[i].name);
                        dlclose(h);
                        return -ENOENT;
                }
                memcpy((char *)&l + syms[i].off, &p, sizeof p);
        }
        /* Optional: checked only where present. */
        void *u = dlsym(h, "curl_url"), *us = dlsym(h, "curl_url_set"), *uc = dlsym(h, "curl_url_cleanup");
        if (u && us && uc) {
                memcpy(&l.url, &u, sizeof u);
                memcpy(&l.url_set, &us, sizeof us);
                memcpy(&l.url_cleanup, &uc, sizeof uc);
        }
        curl_lib = l;
        handle = h;
        return 0;
}

int curl_lib_url_ok(const char *url, char *why, size_t len) {
        static bool inited;
        if (!curl_lib.url)
                return -ENOSYS;
        /* libcurl wants curl_global_init before anything else; it counts
         * calls, so the SLO guard's own call later is fine. */
        if (!inited)
                inited = curl_lib.global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
        CURLU *u = curl_lib.url();
        if (!u)
                return -ENOMEM;
        /* No CURLU_GUESS_SCHEME, no CURLU_NON_SUPPORT_SCHEME: as a probe
         * fetches it. */
        CURLUcode c = curl_lib.url_set(u, CURLUPART_URL, url, 0);
        curl_lib.url_cleanup(u);
        if (c != CURLUE_OK) {
                snprintf(why, len, "libcurl cannot parse it (CURLUcode %d)", (int)c);
                return 0;
        }
        return 1;
}
