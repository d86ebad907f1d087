/* Base64 decoder: any bytes either fail or are the one encoding of what they decode to. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tlog/hash.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Exactly sized copies, so ASan catches a read past the input or a write past the output. */
    char *in = malloc(size ? size : 1);
    size_t cap = size / 4 * 3, n;
    uint8_t *out = malloc(cap ? cap : 1);
    memcpy(in, data, size);
    if (tlog_base64_decode(in, size, out, cap, &n) == 0) {
        char *again = malloc(TLOG_BASE64_LEN(n) + 1);
        if (n > cap || tlog_base64_encode(out, n, again) != size || memcmp(again, in, size) != 0)
            abort();
        free(again);
    }
    free(out);
    free(in);
    return 0;
}
