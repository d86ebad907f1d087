/* Checkpoint text parser: any bytes either fail or come back byte for byte from the formatter. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tlog/checkpoint.h"
#include "tlog/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A copy of exactly size bytes, so ASan catches any read past the input. */
    char *text = malloc(size ? size : 1), *again = malloc(size + 1), err[TLOG_ERR_MAX];
    tlog_checkpoint_t checkpoint;

    memcpy(text, data, size);
    if (tlog_checkpoint_parse(text, size, &checkpoint, err) == 0) {
        if (!tlog_origin_valid(checkpoint.origin, strlen(checkpoint.origin)) || checkpoint.size > INT64_MAX)
            abort();
        if (tlog_checkpoint_format(&checkpoint, again, size + 1) != size || memcmp(again, text, size) != 0)
            abort();
    }
    free(again);
    free(text);
    return 0;
}
