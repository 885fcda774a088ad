#include <stdio.h>
#include "hessra_ffi.h"

int main(int argc, char** argv) {      /* verify TOKEN KEY SUBJECT RESOURCE */
    if (argc != 5) return 2;
    HessraPublicKey key = NULL;
    HessraToken token = NULL;
    HessraResult r = hessra_public_key_from_string(argv[2], &key);
    if (r == HESSRA_SUCCESS) r = hessra_token_parse(argv[1], &token);
    if (r == HESSRA_SUCCESS) r = hessra_token_verify(token, key, argv[3], argv[4]);
    printf("%s\n", r == HESSRA_SUCCESS ? "valid" : hessra_error_message(r));
    hessra_token_free(token);
    hessra_public_key_free(key);
    return r == HESSRA_SUCCESS ? 0 : 1;
}
