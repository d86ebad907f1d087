/*
 * The value syntaxes of faro.yaml, each checked on its own: whole numbers,
 * rates, durations, RFC 3339 UTC times, "host:port" listen addresses, http(s)
 * URLs, file paths, log names, dotted OIDs and extended key usage names.
 * Every checker is a single pass over its string, allocates nothing, and
 * never reads past the NUL; none accepts a sign, white space, or leading
 * zeros in a number (YAML 1.1 would read "010" as octal).
 */
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "config/internal.h"

#define MS_PER_SECOND 1000u
#define MS_PER_MINUTE (60u * MS_PER_SECOND)
#define MS_PER_HOUR (60u * MS_PER_MINUTE)

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_alnum(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Reads a run of digits from *s into *out, advancing *s; 0 on no digits or overflow. */
static int read_digits(const char **s, uint64_t *out)
{
    const char *p = *s;
    uint64_t v = 0;

    if (!is_digit(*p))
        return 0;
    for (; is_digit(*p); p++) {
        uint64_t d = (uint64_t)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    *s = p;
    *out = v;
    return 1;
}

int config_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    uint64_t v;

    if ((s[0] == '0' && s[1] != '\0') || !read_digits(&s, &v) || *s != '\0' || v < min || v > max)
        return 0;
    *out = v;
    return 1;
}

int config_parse_rate(const char *s, uint64_t max, double *out)
{
    uint64_t whole, frac = 0, scale = 1;

    if ((s[0] == '0' && is_digit(s[1])) || !read_digits(&s, &whole))
        return 0;
    if (*s == '.') {
        s++;
        if (!is_digit(*s))
            return 0;
        for (; is_digit(*s); s++) {
            if (scale == 1000000000)
                return 0;
            frac = frac * 10 + (uint64_t)(*s - '0');
            scale *= 10;
        }
    }
    if (*s != '\0' || whole > max || (whole == max && frac != 0))
        return 0;
    *out = (double)whole + (double)frac / (double)scale;
    return 1;
}

int faro_duration_parse(const char *s, uint64_t *out_ms)
{
    uint64_t total = 0;

    if (s == NULL || *s == '\0')
        return -1;
    while (*s != '\0') {
        uint64_t n, unit;
        if (!read_digits(&s, &n))
            return -1;
        if (s[0] == 'm' && s[1] == 's') {
            unit = 1;
            s += 2;
        } else if (*s == 's' || *s == 'm' || *s == 'h') {
            unit = *s == 's' ? MS_PER_SECOND : *s == 'm' ? MS_PER_MINUTE : MS_PER_HOUR;
            s++;
        } else {
            return -1;
        }
        if (n > UINT64_MAX / unit || n * unit > UINT64_MAX - total)
            return -1;
        total += n * unit;
    }
    *out_ms = total;
    return 0;
}

void config_format_ms(uint64_t ms, char buf[32])
{
    static const struct {
        uint64_t ms;
        const char *unit;
    } units[] = {{MS_PER_HOUR, "h"}, {MS_PER_MINUTE, "m"}, {MS_PER_SECOND, "s"}, {1, "ms"}};
    size_t len = 0;

    buf[0] = '\0';
    if (ms == 0) {
        snprintf(buf, 32, "0s");
        return;
    }
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        uint64_t n = ms / units[i].ms;
        if (n == 0)
            continue;
        int w = snprintf(buf + len, 32 - len, "%llu%s", (unsigned long long)n, units[i].unit);
        if (w < 0 || (size_t)w >= 32 - len)
            return;
        len += (size_t)w;
        ms %= units[i].ms;
    }
}

/* Exactly `width` digits at s into *out. */
static int fixed_digits(const char *s, int width, int *out)
{
    int v = 0;
    for (int i = 0; i < width; i++) {
        if (!is_digit(s[i]))
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

int config_parse_time(const char *s, time_t *out)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    struct tm tm = {0};
    int year, month, day, hour, minute, second, leap;

    if (strlen(s) != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z')
        return 0;
    if (!fixed_digits(s, 4, &year) || !fixed_digits(s + 5, 2, &month) || !fixed_digits(s + 8, 2, &day) ||
        !fixed_digits(s + 11, 2, &hour) || !fixed_digits(s + 14, 2, &minute) || !fixed_digits(s + 17, 2, &second))
        return 0;
    leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (year < 1970 || month < 1 || month > 12 || day < 1 || day > days[month - 1] + (month == 2 && leap) || hour > 23 ||
        minute > 59 || second > 59)
        return 0;
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    *out = timegm(&tm);
    return 1;
}

int config_parse_old_not_before(const char *s, uint64_t *age_ms, uint64_t *rate)
{
    const char *colon = strrchr(s, ':');
    char age[32];

    if (colon == NULL || (size_t)(colon - s) >= sizeof(age))
        return 0;
    memcpy(age, s, (size_t)(colon - s));
    age[colon - s] = '\0';
    return faro_duration_parse(age, age_ms) == 0 && *age_ms > 0 && config_parse_uint(colon + 1, 1, 1000000, rate);
}

int config_name_valid(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 64 || s[0] == '.')
        return 0;
    for (; *s != '\0'; s++)
        if (!is_alnum(*s) && *s != '.' && *s != '_' && *s != '-')
            return 0;
    return 1;
}

int config_oid_valid(const char *s)
{
    uint64_t first = 0;
    size_t arcs = 0;

    if (strlen(s) > 128)
        return 0;
    for (;;) {
        uint64_t arc;
        if ((s[0] == '0' && is_digit(s[1])) || !read_digits(&s, &arc))
            return 0;
        if (arcs == 0 && arc > 2)
            return 0;
        if (arcs == 0)
            first = arc;
        if (arcs == 1 && first < 2 && arc > 39)
            return 0;
        arcs++;
        if (*s == '\0')
            return arcs >= 2;
        if (*s++ != '.')
            return 0;
    }
}

const char config_eku_names[] = "Any, ServerAuth, ClientAuth, CodeSigning, EmailProtection, TimeStamping, OCSPSigning";

int config_eku_valid(const char *s)
{
    static const char *const names[] = {"Any",          "ServerAuth", "ClientAuth", "CodeSigning", "EmailProtection",
                                        "TimeStamping", "OCSPSigning"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(s, names[i]) == 0)
            return 1;
    return 0;
}

/* A port: 1 to 65535 without leading zeros, running to the end of s. */
static int port_valid(const char *s)
{
    uint64_t port;
    return config_parse_uint(s, 1, 65535, &port);
}

/* The host of "host:port" or of a URL's authority, from s up to end: a bracketed IPv6 address or a DNS name or IPv4. */
static int host_valid(const char *s, const char *end)
{
    if (s == end)
        return 0;
    if (*s == '[') {
        if (end - s < 3 || end[-1] != ']')
            return 0;
        for (s++, end--; s < end; s++)
            if (!is_hex(*s) && *s != ':' && *s != '.')
                return 0;
        return 1;
    }
    for (; s < end; s++)
        if (!is_alnum(*s) && *s != '.' && *s != '-')
            return 0;
    return 1;
}

/* Where the port's ':' is in s (host then ":port"), or NULL; a bracketed host may hold ':'. */
static const char *port_colon(const char *s)
{
    if (*s == '[') {
        const char *close = strchr(s, ']');
        return close != NULL && close[1] == ':' ? close + 1 : NULL;
    }
    return strrchr(s, ':');
}

const char *config_check_listen(const char *s)
{
    const char *colon = port_colon(s);

    if (colon == NULL)
        return "has no :port";
    if (*s != '[' && memchr(s, ':', (size_t)(colon - s)) != NULL)
        return "holds an IPv6 address without brackets (write \"[::1]:6963\")";
    if (!host_valid(s, colon))
        return "has no valid host before the port (use 0.0.0.0 or [::] for every address)";
    if (!port_valid(colon + 1))
        return "has a port outside 1 to 65535";
    return NULL;
}

const char *config_check_url(const char *s, int prefix, size_t *scheme_len)
{
    const char *host, *end, *colon;
    size_t len;

    if (strncmp(s, "https://", 8) == 0)
        *scheme_len = 8;
    else if (strncmp(s, "http://", 7) == 0)
        *scheme_len = 7;
    else
        return "must start with http:// or https://";
    for (const char *p = s; *p != '\0'; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
            return "must be printable ASCII without spaces";
    if (strchr(s, '#') != NULL)
        return "must not have a #fragment";
    if (prefix && strchr(s, '?') != NULL)
        return "must not have a ?query";
    host = s + *scheme_len;
    len = strcspn(host, "/?");
    end = host + len;
    if (memchr(host, '@', len) != NULL)
        return "must not have user:password@";
    colon = NULL;
    for (const char *p = host; p < end; p++)
        if (*p == ':' && (*host != '[' || (p > host && p[-1] == ']')))
            colon = p;
    if (!host_valid(host, colon != NULL ? colon : end))
        return "must have a host";
    if (colon != NULL) {
        char port[8];
        size_t n = (size_t)(end - colon - 1);
        if (n >= sizeof(port))
            return "has a port outside 1 to 65535";
        memcpy(port, colon + 1, n);
        port[n] = '\0';
        if (!port_valid(port))
            return "has a port outside 1 to 65535";
    }
    return NULL;
}

const char *config_check_path(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f || strncmp(s, "-----BEGIN", 10) == 0)
            return "must be the path of a file, not its contents (the value holds PEM text or a control character; it is not "
                   "repeated here)";
    return NULL;
}
