/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

/* libcurl, loaded at run time by the runs that probe over HTTP (http and
 * prometheus SLOs), not linked: its tree of some thirty libraries costs
 * about 6 ms at every process start here, and `sabot abort`, the kill
 * switch, is a process start. */
struct curl_lib {
        CURLcode (*global_init)(long flags);
        CURLM *(*multi_init)(void);
        CURLMcode (*multi_setopt)(CURLM *m, CURLMoption o, ...);
        CURLMcode (*multi_add_handle)(CURLM *m, CURL *e);
        CURLMcode (*multi_remove_handle)(CURLM *m, CURL *e);
        CURLMcode (*multi_socket_action)(CURLM *m, curl_socket_t s, int ev_bitmask, int *running);
        CURLMsg *(*multi_info_read)(CURLM *m, int *left);
        CURLMcode (*multi_cleanup)(CURLM *m);
        CURL *(*easy_init)(void);
        CURLcode (*easy_setopt)(CURL *e, CURLoption o, ...);
        CURLcode (*easy_getinfo)(CURL *e, CURLINFO i, ...);
        char *(*easy_escape)(CURL *e, const char *s, int len);
        void (*easy_cleanup)(CURL *e);
        void (*free)(void *p);
        const char *(*easy_strerror)(CURLcode c);
        /* The URL API (libcurl 7.62 and later), NULL when the library
         * lacks it: a run checks each probe's URL with it before it
         * touches anything. */
        CURLU *(*url)(void);
        CURLUcode (*url_set)(CURLU *u, CURLUPart what, const char *part, unsigned int flags);
        void (*url_cleanup)(CURLU *u);
};

extern struct curl_lib curl_lib;

/* The soname loaded; packaging names its package as a dependency. */
#define CURL_LIB_SONAME "libcurl.so.4"

/* Load it once; 0, or a negative errno and why. */
int curl_lib_load(char *why, size_t len);
/* Whether libcurl (loaded) parses url as a URL it can fetch: 1 yes, 0 no
 * (with why), -ENOSYS when this libcurl has no URL API. */
int curl_lib_url_ok(const char *url, char *why, size_t len);
