/*
 * Verifier key parser: any bytes either fail or give a key whose vkey string
 * is the input (the key ID in lowercase hex) and parses to the same key.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tlog/error.h"
#include "tlog/note.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A copy of exactly size bytes, so ASan catches any read past the input. */
    char *vkey = malloc(size ? size : 1), out[512], err[TLOG_ERR_MAX];
    tlog_verifier_t *verifier, *again;

    memcpy(vkey, data, size);
    if (tlog_verifier_from_vkey(vkey, size, &verifier, err) == 0) {
        size_t name_len = strlen(tlog_verifier_name(verifier));
        if (tlog_verifier_vkey(verifier, out, sizeof(out)) != 0 || strlen(out) != size)
            abort();
        for (size_t i = name_len + 1; i < name_len + 9; i++)
            vkey[i] = (char)tolower((unsigned char)vkey[i]);
        if (memcmp(out, vkey, size) != 0)
            abort();
        if (tlog_verifier_from_vkey(out, size, &again, err) != 0 || tlog_verifier_key_id(again) != tlog_verifier_key_id(verifier) ||
            tlog_verifier_type(again) != tlog_verifier_type(verifier))
            abort();
        tlog_verifier_free(again);
        tlog_verifier_free(verifier);
    }
    free(vkey);
    return 0;
}
