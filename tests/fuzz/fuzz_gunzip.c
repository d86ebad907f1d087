/* gzip inflater (data tiles): any bytes either fail or inflate within the limit to what gzips back the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tlog/error.h"
#include "tlog/gzip.h"

#define INFLATED_MAX (1 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *in = malloc(size ? size : 1), *out, *again;
    size_t out_len, again_len;
    char err[TLOG_ERR_MAX];
    memcpy(in, data, size); /* an exactly sized copy, so ASan catches a read past the input */
    if (tlog_gunzip(in, size, INFLATED_MAX, &out, &out_len, err) == 0) {
        tlog_buf_t gz = TLOG_BUF_INIT;
        tlog_gzip(out, out_len, &gz);
        if (out_len > INFLATED_MAX || tlog_gunzip(gz.data, gz.len, INFLATED_MAX, &again, &again_len, err) != 0 ||
            again_len != out_len || memcmp(again, out, out_len) != 0)
            abort();
        free(again);
        tlog_buf_free(&gz);
        free(out);
    } else if (err[0] == '\0') {
        abort();
    }
    free(in);
    return 0;
}
