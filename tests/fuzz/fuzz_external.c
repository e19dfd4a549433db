/* fuzz_external.c: external-data resolution. The input is a model parsed with a base folder
 * that holds real data files and every kind of escape a hostile model could aim at: a file
 * outside the folder, a symbolic link to it, a folder that is a symbolic link out, a hard
 * link. The seeds reference them by name, offset and length; the fuzzer changes the rest. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "o2p/o2p.h"

static char base[256];

static void write_bytes(const char *path, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return;
    for (size_t i = 0; i < n; i++)
        fputc((int)(i * 37u + 11u) & 0xff, f);
    fclose(f);
}

/* <tmp>/o2p-fuzz-ext-<pid>/{outside.bin, model/{weights.bin, sub/more.bin, link.bin ->
 * ../outside.bin, out -> .., hard.bin (a hard link of outside.bin)}}; base = model/. */
static void make_fixture(void)
{
    const char *tmp = getenv("TMPDIR");
    char root[200];
    snprintf(root, sizeof root, "%s/o2p-fuzz-ext-%d", tmp && *tmp ? tmp : "/tmp", (int)getpid());
    snprintf(base, sizeof base, "%s/model", root);
    char p[512], q[512];
    mkdir(root, 0700);
    mkdir(base, 0700);
    snprintf(p, sizeof p, "%s/sub", base);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/outside.bin", root);
    write_bytes(p, 4096);
    snprintf(p, sizeof p, "%s/weights.bin", base);
    write_bytes(p, 4096);
    snprintf(p, sizeof p, "%s/sub/more.bin", base);
    write_bytes(p, 1024);
    snprintf(p, sizeof p, "%s/link.bin", base);
    if (symlink("../outside.bin", p) != 0) { /* exists from an earlier run of this pid */ }
    snprintf(p, sizeof p, "%s/out", base);
    if (symlink("..", p) != 0) { }
    snprintf(p, sizeof p, "%s/outside.bin", root);
    snprintf(q, sizeof q, "%s/hard.bin", base);
    if (link(p, q) != 0) { }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!base[0])
        make_fixture();
    fuzz_quiet();
    o2p_network *net = NULL;
    o2p_parser *parser = NULL;
    if (o2p_network_create(&net) != O2P_OK)
        return 0;
    if (o2p_parser_create(net, &parser) == O2P_OK)
        o2p_parser_parse_bytes(parser, data, size, base, "fuzz.onnx");
    o2p_parser_destroy(parser);
    o2p_network_destroy(net);
    return 0;
}
