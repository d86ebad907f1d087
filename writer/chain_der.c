/* DER elements (see chain_der.h), read with OpenSSL's ASN1_get_object. */
#include <openssl/asn1.h>

#include "writer/chain_der.h"

int chain_der_take(const uint8_t **p, const uint8_t *end, int tag, const uint8_t **body, long *body_len)
{
    const uint8_t *q = *p;
    int element_tag, element_class;
    int flags = ASN1_get_object(&q, body_len, &element_tag, &element_class, end - *p);
    int constructed = (flags & V_ASN1_CONSTRUCTED) != 0;
    if ((flags & 0x80) != 0 || (flags & 0x01) != 0 || element_class != V_ASN1_UNIVERSAL || element_tag != tag ||
        constructed != (tag == V_ASN1_SEQUENCE))
        return -1;
    *body = q;
    *p = q + *body_len;
    return 0;
}
