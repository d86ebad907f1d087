/*
 * Progress lines on a fake clock: nothing from an operation shorter than
 * the interval, one line per interval at most, counts, percent, rate and
 * time left computed from the start, announced operations, estimates (and
 * overshooting them), a total that grows, a count that goes back, and the
 * finish line. The lines are read back from the real stderr (faro_log).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/clock.h"
#include "config/progress.h"

#define T0 UINT64_C(1000000) /* a fake monotonic reading, ms */
#define INTERVAL FARO_PROGRESS_INTERVAL_MS

static FILE *captured;
static int saved_stderr = -1;

static void capture_start(void)
{
    assert_non_null(captured = tmpfile());
    assert_true((saved_stderr = dup(STDERR_FILENO)) >= 0);
    assert_true(dup2(fileno(captured), STDERR_FILENO) >= 0);
}

/* The messages logged since capture_start, each without its time and level ("subject: message\n" lines), malloc'd. */
static char *capture_end(void)
{
    assert_true(dup2(saved_stderr, STDERR_FILENO) >= 0);
    close(saved_stderr);
    char line[1024], *out = calloc(1, 1 << 16);
    assert_non_null(out);
    rewind(captured);
    while (fgets(line, sizeof(line), captured) != NULL) {
        char *message = strstr(line, " info ");
        assert_non_null(message);
        strncat(out, message + 6, (1 << 16) - strlen(out) - 1);
    }
    fclose(captured);
    return out;
}

static faro_progress_t things(uint64_t total)
{
    return (faro_progress_t){.subject = "testlog", .what = "op", .unit = "things", .total = total};
}

static void assert_logged(char *got, const char *want)
{
    assert_string_equal(got, want);
    free(got);
}

static void test_config_progress_quick_operation_is_silent(void **state)
{
    (void)state;
    faro_progress_t p = things(1000);
    capture_start();
    faro_progress_start(&p, 0, T0);
    for (uint64_t t = 0; t < INTERVAL; t += 100)
        faro_progress_update(&p, t / 10, T0 + t);
    faro_progress_finish(&p, 1000, T0 + INTERVAL - 1);
    assert_logged(capture_end(), "");
}

static void test_config_progress_reports_every_interval(void **state)
{
    (void)state;
    faro_progress_t p = things(1000);
    capture_start();
    faro_progress_start(&p, 0, T0);
    faro_progress_update(&p, 100, T0 + INTERVAL - 1);
    faro_progress_update(&p, 500, T0 + INTERVAL);             /* 100/s since the start */
    faro_progress_update(&p, 600, T0 + INTERVAL + 1000);      /* too soon after the last line */
    faro_progress_update(&p, 850, T0 + 2 * INTERVAL - 1);     /* still too soon */
    faro_progress_update(&p, 900, T0 + 2 * INTERVAL);         /* 90/s overall */
    faro_progress_finish(&p, 1000, T0 + 2 * INTERVAL + 1000); /* 1000 in 11 s */
    assert_logged(capture_end(), "testlog: op: 500 of 1000 things (50%), 100 things/s, about 5 s left\n"
                                 "testlog: op: 900 of 1000 things (90%), 90 things/s, about 1 s left\n"
                                 "testlog: op: finished at 1000 things: 1000 in 11.0 s, 91 things/s\n");
}

/* A resumed operation counts its rate from where it started; announced, it says so at once and at the end however quick. */
static void test_config_progress_announced_and_resumed(void **state)
{
    (void)state;
    faro_progress_t p = things(1000);
    p.announce = 1;
    capture_start();
    faro_progress_start(&p, 200, T0);
    faro_progress_update(&p, 700, T0 + INTERVAL); /* 500 in 5 s */
    faro_progress_finish(&p, 1000, T0 + INTERVAL + 3000);
    assert_logged(capture_end(), "testlog: op: 800 things to do, from 200\n"
                                 "testlog: op: 700 of 1000 things (70%), 100 things/s, about 3 s left\n"
                                 "testlog: op: finished at 1000 things: 800 in 8.0 s, 100 things/s\n");

    p = things(50);
    p.announce = 1;
    capture_start();
    faro_progress_start(&p, 0, T0);
    faro_progress_finish(&p, 50, T0);
    assert_logged(capture_end(), "testlog: op: 50 things to do, from 0\n"
                                 "testlog: op: finished at 50 things: 50 in 0.0 s\n");
}

/* An operation that cannot report as it goes still says how long it took, when it took long. */
static void test_config_progress_long_without_updates(void **state)
{
    (void)state;
    faro_progress_t p = things(40);
    capture_start();
    faro_progress_start(&p, 0, T0);
    faro_progress_finish(&p, 40, T0 + 8000);
    assert_logged(capture_end(), "testlog: op: finished at 40 things: 40 in 8.0 s, 5 things/s\n");
}

static void test_config_progress_estimate(void **state)
{
    (void)state;
    faro_progress_t p = things(1000);
    p.estimated = 1;
    p.announce = 1;
    capture_start();
    faro_progress_start(&p, 0, T0);
    faro_progress_update(&p, 250, T0 + INTERVAL);
    faro_progress_update(&p, 1000, T0 + 2 * INTERVAL); /* reached the estimate and not done */
    faro_progress_update(&p, 1500, T0 + 3 * INTERVAL);
    faro_progress_finish(&p, 1600, T0 + 4 * INTERVAL);
    assert_logged(capture_end(), "testlog: op: about 1000 things to do, from 0\n"
                                 "testlog: op: 250 of about 1000 things (25%), 50 things/s, about 15 s left\n"
                                 "testlog: op: 1000 things so far (about 1000 expected), 100 things/s\n"
                                 "testlog: op: 1500 things so far (about 1000 expected), 100 things/s\n"
                                 "testlog: op: finished at 1600 things: 1600 in 20.0 s, 80 things/s\n");
}

/* The time left in seconds, minutes or hours; unknown while nothing moved; a total raised meanwhile counts. */
static void test_config_progress_time_left(void **state)
{
    (void)state;
    faro_progress_t p = things(10000);
    capture_start();
    faro_progress_start(&p, 0, T0);
    faro_progress_update(&p, 0, T0 + INTERVAL);
    faro_progress_update(&p, 1000, T0 + 2 * INTERVAL); /* 100/s, 9000 left */
    p.total = 1000000;
    faro_progress_update(&p, 1500, T0 + 3 * INTERVAL); /* 100/s, 998500 left */
    assert_logged(capture_end(), "testlog: op: 0 of 10000 things (0%), 0 things/s, time left unknown\n"
                                 "testlog: op: 1000 of 10000 things (10%), 100 things/s, about 90 s left\n"
                                 "testlog: op: 1500 of 1000000 things (0%), 100 things/s, about 2.8 h left\n");

    p = things(61000);
    capture_start();
    faro_progress_start(&p, 0, T0);
    faro_progress_update(&p, 1000, T0 + 10 * INTERVAL); /* 20/s, 3000 s left */
    assert_logged(capture_end(), "testlog: op: 1000 of 61000 things (2%), 20 things/s, about 50 min left\n");
}

/* An operation that went back (a rebuilt index) counts no progress rather than wrapping around. */
static void test_config_progress_count_goes_back(void **state)
{
    (void)state;
    faro_progress_t p = things(1000);
    capture_start();
    faro_progress_start(&p, 500, T0);
    faro_progress_update(&p, 100, T0 + INTERVAL);
    faro_progress_finish(&p, 1000, T0 + 2 * INTERVAL);
    assert_logged(capture_end(), "testlog: op: 100 of 1000 things (10%), 0 things/s, time left unknown\n"
                                 "testlog: op: finished at 1000 things: 500 in 10.0 s, 50 things/s\n");
}

static void test_config_progress_clock_is_monotonic(void **state)
{
    (void)state;
    uint64_t a = faro_monotonic_ms();
    usleep(20000);
    uint64_t b = faro_monotonic_ms();
    assert_true(b >= a + 19 && b < a + 5000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_progress_quick_operation_is_silent),
        cmocka_unit_test(test_config_progress_reports_every_interval),
        cmocka_unit_test(test_config_progress_announced_and_resumed),
        cmocka_unit_test(test_config_progress_long_without_updates),
        cmocka_unit_test(test_config_progress_estimate),
        cmocka_unit_test(test_config_progress_time_left),
        cmocka_unit_test(test_config_progress_count_goes_back),
        cmocka_unit_test(test_config_progress_clock_is_monotonic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
