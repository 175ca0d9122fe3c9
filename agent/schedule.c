/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>

#include "schedule.h"

bool schedule_fault_next(const struct scenario *s, const struct fault_run *fr, uint64_t *ret_t,
                         enum sched_due *ret_what) {
        enum sched_due what;
        uint64_t t;
        if (fr->state == FR_PENDING)
                what = SCHED_START, t = fr->f->start;
        else if (fr->state != FR_ACTIVE)
                return false;
        else {
                uint64_t end = fault_end(s, fr->f);
                if (fr->next_strike_ns && fr->next_strike_ns < end)
                        what = SCHED_STRIKE, t = fr->next_strike_ns;
                else
                        what = SCHED_END, t = end;
                /* A window has a length: an active fault due at 0 has
                 * nothing more due (the run's end reverts it). */
                if (!t)
                        return false;
        }
        *ret_t = t;
        if (ret_what)
                *ret_what = what;
        return true;
}

/* By (time, fault index): faults due together go in file order, as a scan
 * would take them. Each fault has at most one entry that is still true
 * (its time is schedule_fault_next's), so n_faults entries suffice: an
 * entry is taken before its fault's next one is pushed. */
static bool ent_less(const struct sched_ent *a, const struct sched_ent *b) {
        return a->t < b->t || (a->t == b->t && a->i < b->i);
}

static void ent_swap(struct sched_ent *a, struct sched_ent *b) {
        struct sched_ent t = *a;
        *a = *b;
        *b = t;
}

void schedule_push(struct schedule *sc, size_t i) {
        uint64_t t;
        if (!sc->heap || sc->n >= sc->s->n_faults || !schedule_fault_next(sc->s, &sc->fr[i], &t, NULL))
                return;
        size_t k = sc->n++;
        sc->heap[k] = (struct sched_ent){.t = t, .i = i};
        while (k > 0 && ent_less(&sc->heap[k], &sc->heap[(k - 1) / 2])) {
                ent_swap(&sc->heap[k], &sc->heap[(k - 1) / 2]);
                k = (k - 1) / 2;
        }
}

static void pop(struct schedule *sc) {
        sc->heap[0] = sc->heap[--sc->n];
        for (size_t k = 0;;) {
                size_t l = 2 * k + 1, m = k;
                if (l < sc->n && ent_less(&sc->heap[l], &sc->heap[m]))
                        m = l;
                if (l + 1 < sc->n && ent_less(&sc->heap[l + 1], &sc->heap[m]))
                        m = l + 1;
                if (m == k)
                        break;
                ent_swap(&sc->heap[k], &sc->heap[m]);
                k = m;
        }
}

int schedule_build(struct schedule *sc, const struct scenario *s, const struct fault_run *fr) {
        if (sc->heap || !s->n_faults)
                return 0;
        *sc = (struct schedule){.s = s, .fr = fr, .heap = calloc(s->n_faults, sizeof *sc->heap)};
        if (!sc->heap)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_faults; i++)
                schedule_push(sc, i);
        return 0;
}

/* The earliest entry that is still true, dropping those whose fault has
 * moved on; NULL when none. */
static const struct sched_ent *peek(struct schedule *sc, enum sched_due *ret_what) {
        while (sc->n) {
                const struct sched_ent *e = &sc->heap[0];
                uint64_t t;
                if (schedule_fault_next(sc->s, &sc->fr[e->i], &t, ret_what) && t == e->t)
                        return e;
                pop(sc);
        }
        return NULL;
}

bool schedule_next(struct schedule *sc, uint64_t *ret_t) {
        const struct sched_ent *e = peek(sc, NULL);
        if (e)
                *ret_t = e->t;
        return e;
}

bool schedule_take(struct schedule *sc, uint64_t now, size_t *ret_i, enum sched_due *ret_what) {
        enum sched_due what;
        const struct sched_ent *e = peek(sc, &what);
        if (!e || e->t > now)
                return false;
        *ret_i = e->i;
        *ret_what = what;
        pop(sc);
        return true;
}

void schedule_free(struct schedule *sc) {
        free(sc->heap);
        *sc = (struct schedule){0};
}
