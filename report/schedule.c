/*
 * schedule.c - when the weekly summary is due: a weekday and a local time of day. Pure
 * functions of the time given, so tests control the clock.
 */
#include <string.h>
#include <strings.h>

#include "ns_summary.h"

static const char *const day_names[7] = {"sunday",   "monday", "tuesday", "wednesday",
                                         "thursday", "friday", "saturday"};

int ns_schedule_parse(const char *s, struct ns_schedule *out)
{
    char day[16];
    int h, m, n = 0;
    if (sscanf(s, " %15[A-Za-z] %d:%d %n", day, &h, &m, &n) != 3 || s[n] || h < 0 || h > 23 ||
        m < 0 || m > 59) {
        return NS_EPARSE;
    }
    for (int k = 0; k < 7; k++) {
        size_t len = strlen(day);
        if ((len == 3 || len == strlen(day_names[k])) && !strncasecmp(day, day_names[k], len)) {
            out->weekday = k;
            out->hour = h;
            out->minute = m;
            return NS_OK;
        }
    }
    return NS_EPARSE;
}

/* The scheduled moment `weeks_back` weeks before the one in the week of lt. */
static time_t moment(const struct ns_schedule *s, const struct tm *lt, int days_back,
                     struct tm *out)
{
    *out = *lt;
    out->tm_mday -= days_back;
    out->tm_hour = s->hour;
    out->tm_min = s->minute;
    out->tm_sec = 0;
    out->tm_isdst = -1;
    return mktime(out);
}

int64_t ns_schedule_due(const struct ns_schedule *s, time_t now)
{
    struct tm lt, at;
    int back;
    localtime_r(&now, &lt);
    back = (lt.tm_wday - s->weekday + 7) % 7;
    if (moment(s, &lt, back, &at) > now) {
        moment(s, &lt, back + 7, &at);
    }
    return ns_days_from_civil(at.tm_year + 1900, (unsigned)at.tm_mon + 1, (unsigned)at.tm_mday) - 1;
}
