/* test_codegen.c: the compiling half of src/codegen (nvrtc.c, cache.c, the embedded
 * kernels/cuda sources): NVRTC compiles the selftest family to real sm_80/sm_90 cubins and
 * compute_80 PTX with no GPU; the kernel cache hits on the second compile, rebuilds damaged
 * entries, survives two processes filling one empty folder, and is off with ""; a missing
 * NVRTC and a broken source fail with messages that say what to do. Prints how long a
 * compile takes (the selftest and a GEMM/elementwise source of realistic size). */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "codegen/codegen.h"
#include "testutil.h"

#define EM_CUDA 190

static double seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Asserts a cubin: ELF64 little-endian, e_machine EM_CUDA, and the kernel names inside. */
static void assert_cubin(const void *image, size_t size)
{
    const unsigned char *p = image;
    ck_assert_msg(size > 64, "cubin of %zu bytes", size);
    ck_assert_msg(memcmp(p, "\177ELF", 4) == 0, "the cubin does not start with the ELF magic");
    ck_assert_int_eq(p[4], 2); /* ELFCLASS64 */
    ck_assert_int_eq(p[5], 1); /* little-endian */
    ck_assert_int_eq(p[18] | p[19] << 8, EM_CUDA);
    ck_assert_msg(memmem(image, size, "o2p_selftest_fill", 17) != NULL, "no o2p_selftest_fill");
    ck_assert_msg(memmem(image, size, "o2p_selftest_convert", 20) != NULL,
                  "no o2p_selftest_convert");
}

/* The files of dir (not . or ..), counted; *tmp counts those with ".tmp." in their name. */
static int count_entries(const char *dir, int *tmp, char **first)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    if (tmp)
        *tmp = 0;
    if (first)
        *first = NULL;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        n++;
        if (tmp && strstr(e->d_name, ".tmp."))
            (*tmp)++;
        if (first && !*first)
            *first = tu_printf("%s/%s", dir, e->d_name);
    }
    closedir(d);
    return n;
}

static char captured[8192];

static void capture_log(void *user, o2p_severity severity, const char *message)
{
    (void)user;
    if (severity <= O2P_SEVERITY_WARNING) {
        size_t used = strlen(captured);
        snprintf(captured + used, sizeof captured - used, "%s\n", message);
    }
}

/* ---------------------------------------------------------------- embedding */

START_TEST(test_embedded_sources)
{
    const char *src = cg_family_source("selftest");
    ck_assert_ptr_nonnull(src);
    ck_assert(tu_contains(src, "extern \"C\" __global__ void o2p_selftest_fill"));
    ck_assert_ptr_null(cg_family_source("no_such_family"));
    ck_assert_ptr_null(cg_family_source(NULL));
    ck_assert_ptr_null(cg_header_name(-1));
    ck_assert_ptr_null(cg_header_name(cg_header_count()));

    /* every header byte for byte as on disk, and the .cu too */
    int found = 0;
    for (int i = 0; i < cg_header_count(); i++) {
        const char *name = cg_header_name(i);
        char *path = tu_printf("%s/kernels/cuda/%s", O2P_SOURCE_DIR, name);
        size_t size = 0;
        char *disk = tu_read_file(path, &size);
        ck_assert_msg(disk != NULL, "%s", path);
        ck_assert_msg(strlen(cg_header_text(i)) == size &&
                          memcmp(disk, cg_header_text(i), size) == 0,
                      "embedded %s differs from %s", name, path);
        found += strcmp(name, "o2p_cuda.h") == 0 || strcmp(name, "o2p_params.h") == 0;
        free(disk);
        free(path);
    }
    ck_assert_int_eq(found, 2);
    char *path = tu_printf("%s/kernels/cuda/selftest.cu", O2P_SOURCE_DIR);
    size_t size = 0;
    char *disk = tu_read_file(path, &size);
    ck_assert_ptr_nonnull(disk);
    ck_assert(strlen(src) == size && memcmp(disk, src, size) == 0);
    free(disk);
    free(path);
}
END_TEST

START_TEST(test_nvrtc_archs)
{
    int archs[64];
    int n = cg_nvrtc_archs(archs, 64);
    ck_assert_msg(n > 0, "cg_nvrtc_archs: %d: %s", n, o2p_last_error());
    int has80 = 0, has90 = 0;
    printf("NVRTC architectures:");
    for (int i = 0; i < n; i++) {
        printf(" %d", archs[i]);
        has80 |= archs[i] == 80;
        has90 |= archs[i] == 90;
    }
    printf("\n");
    ck_assert(has80 && has90);
    ck_assert_int_eq(cg_nvrtc_archs(archs, 1), 1);
}
END_TEST

/* ---------------------------------------------------------------- compiling */

START_TEST(test_sass_sm80_sm90)
{
    char *dir = tu_tempdir();
    cg_compile_options opt = {.cache_dir = dir};
    void *img80 = NULL, *img90 = NULL;
    size_t n80 = 0, n90 = 0;
    double t0 = seconds();
    TU_ASSERT_STATUS(cg_compile("selftest", 80, CG_IMAGE_SASS, &opt, &img80, &n80), O2P_OK);
    double t1 = seconds();
    TU_ASSERT_STATUS(cg_compile("selftest", 90, CG_IMAGE_SASS, &opt, &img90, &n90), O2P_OK);
    printf("selftest compile: sm_80 %.3f s (%zu bytes), sm_90 %.3f s (%zu bytes)\n", t1 - t0, n80,
           seconds() - t1, n90);
    assert_cubin(img80, n80);
    assert_cubin(img90, n90);
    ck_assert(n80 != n90 || memcmp(img80, img90, n80) != 0);
    int compiles, hits;
    cg_compile_stats(&compiles, &hits);
    ck_assert_int_eq(compiles, 2);
    ck_assert_int_eq(hits, 0);
    free(img80);
    free(img90);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_ptx_compute80)
{
    void *img = NULL;
    size_t size = 0;
    cg_compile_options opt = {.cache_dir = ""};
    TU_ASSERT_STATUS(cg_compile("selftest", 80, CG_IMAGE_PTX, &opt, &img, &size), O2P_OK);
    const char *text = img;
    ck_assert_int_eq(text[size - 1], '\0');
    ck_assert_uint_eq(strlen(text) + 1, size);
    ck_assert_msg(strstr(text, ".target sm_80"), "no .target sm_80 in the PTX");
    ck_assert(strstr(text, ".entry o2p_selftest_fill"));
    ck_assert(strstr(text, ".entry o2p_selftest_convert"));
    free(img);
}
END_TEST

START_TEST(test_cache_hit)
{
    char *root = tu_tempdir();
    /* parents that do not exist yet: created, mode 0700 */
    char *dir = tu_printf("%s/a/b/kernels", root);
    cg_compile_options opt = {.cache_dir = dir};
    void *first = NULL, *second = NULL;
    size_t n1 = 0, n2 = 0;
    TU_ASSERT_STATUS(cg_compile("selftest", 90, CG_IMAGE_SASS, &opt, &first, &n1), O2P_OK);
    struct stat st;
    ck_assert_int_eq(stat(dir, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0700);
    char *a = tu_printf("%s/a", root);
    ck_assert_int_eq(stat(a, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0700);
    free(a);
    int tmp = 0;
    char *entry = NULL;
    ck_assert_int_eq(count_entries(dir, &tmp, &entry), 1);
    ck_assert_int_eq(tmp, 0);
    ck_assert_msg(tu_contains(entry, "selftest-sm_90.cubin-"), "entry named %s", entry);
    ck_assert_int_eq(stat(entry, &st), 0);
    ck_assert_int_eq(st.st_mode & 0077, 0);

    double t0 = seconds();
    TU_ASSERT_STATUS(cg_compile("selftest", 90, CG_IMAGE_SASS, &opt, &second, &n2), O2P_OK);
    printf("selftest cache hit: %.4f s\n", seconds() - t0);
    ck_assert_uint_eq(n1, n2);
    ck_assert(memcmp(first, second, n1) == 0);
    int compiles, hits;
    cg_compile_stats(&compiles, &hits);
    ck_assert_int_eq(compiles, 1);
    ck_assert_int_eq(hits, 1);

    /* another architecture or kind is another key */
    free(second);
    TU_ASSERT_STATUS(cg_compile("selftest", 80, CG_IMAGE_PTX, &opt, &second, &n2), O2P_OK);
    cg_compile_stats(&compiles, &hits);
    ck_assert_int_eq(compiles, 2);
    ck_assert_int_eq(count_entries(dir, NULL, NULL), 2);
    free(second);
    free(first);
    free(entry);
    free(dir);
    tu_rmtree(root);
    free(root);
}
END_TEST

/* Damages the one entry of dir with fn, then checks that the next compile ignores it (a
 * compile, not a hit), warns, returns a valid image and rewrites the entry (then a hit). */
static void check_damage(const char *dir, void (*damage)(const char *path, size_t size),
                         const char *what)
{
    char *entry = NULL;
    ck_assert_int_eq(count_entries(dir, NULL, &entry), 1);
    struct stat st;
    ck_assert_int_eq(stat(entry, &st), 0);
    damage(entry, (size_t)st.st_size);

    int c0, h0, c1, h1;
    cg_compile_stats(&c0, &h0);
    captured[0] = '\0';
    o2p_set_logger(capture_log, NULL, O2P_SEVERITY_WARNING);
    cg_compile_options opt = {.cache_dir = dir};
    void *img = NULL;
    size_t size = 0;
    TU_ASSERT_STATUS(cg_compile("selftest", 80, CG_IMAGE_SASS, &opt, &img, &size), O2P_OK);
    o2p_set_logger(NULL, NULL, O2P_SEVERITY_WARNING);
    assert_cubin(img, size);
    cg_compile_stats(&c1, &h1);
    ck_assert_msg(c1 == c0 + 1 && h1 == h0, "%s: the damaged entry was used", what);
    ck_assert_msg(tu_contains(captured, "damaged") && tu_contains(captured, entry),
                  "%s: no warning naming the entry: %s", what, captured);
    free(img);
    /* rewritten: the next one is a hit, byte for byte the same */
    void *again = NULL;
    size_t again_size = 0;
    TU_ASSERT_STATUS(cg_compile("selftest", 80, CG_IMAGE_SASS, &opt, &again, &again_size), O2P_OK);
    cg_compile_stats(&c0, &h0);
    ck_assert_msg(c0 == c1 && h0 == h1 + 1, "%s: the entry was not rewritten", what);
    assert_cubin(again, again_size);
    free(again);
    free(entry);
}

static void flip_image_byte(const char *path, size_t size)
{
    size_t n = 0;
    char *bytes = tu_read_file(path, &n);
    ck_assert(bytes && n == size);
    bytes[size - 100] ^= 0x10;
    ck_assert_int_eq(tu_write_file(path, bytes, n), 0);
    free(bytes);
}

static void truncate_entry(const char *path, size_t size)
{
    ck_assert_int_eq(truncate(path, (off_t)(size / 2)), 0);
}

static void short_header(const char *path, size_t size)
{
    ck_assert_int_eq(truncate(path, 20), 0);
}

static void flip_key_byte(const char *path, size_t size)
{
    size_t n = 0;
    char *bytes = tu_read_file(path, &n);
    ck_assert(bytes && n == size);
    bytes[20] ^= 0x01; /* inside the key; the header checksum catches it */
    ck_assert_int_eq(tu_write_file(path, bytes, n), 0);
    free(bytes);
}

static void grow_entry(const char *path, size_t size)
{
    FILE *f = fopen(path, "ab");
    ck_assert_ptr_nonnull(f);
    fputs("trailing bytes", f);
    fclose(f);
}

START_TEST(test_cache_damaged_entries)
{
    char *dir = tu_tempdir();
    cg_compile_options opt = {.cache_dir = dir};
    void *img = NULL;
    size_t size = 0;
    TU_ASSERT_STATUS(cg_compile("selftest", 80, CG_IMAGE_SASS, &opt, &img, &size), O2P_OK);
    free(img);
    check_damage(dir, flip_image_byte, "a flipped image byte");
    check_damage(dir, truncate_entry, "a truncated entry");
    check_damage(dir, short_header, "a short header");
    check_damage(dir, flip_key_byte, "a flipped key byte");
    check_damage(dir, grow_entry, "trailing bytes");
    tu_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_cache_two_processes)
{
    char *root = tu_tempdir();
    char *dir = tu_printf("%s/kernels", root); /* does not exist: both processes create it */
    pid_t pids[2];
    for (int i = 0; i < 2; i++) {
        pids[i] = fork();
        ck_assert_int_ge(pids[i], 0);
        if (pids[i] == 0) {
            cg_compile_options opt = {.cache_dir = dir};
            void *img = NULL;
            size_t size = 0;
            o2p_status s = cg_compile("selftest", 90, CG_IMAGE_SASS, &opt, &img, &size);
            int ok = s == O2P_OK && size > 64 && memcmp(img, "\177ELF", 4) == 0;
            if (!ok)
                fprintf(stderr, "child %d: %s: %s\n", i, o2p_status_name(s), o2p_last_error());
            _exit(ok ? 0 : 1);
        }
    }
    for (int i = 0; i < 2; i++) {
        int status = 0;
        ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d failed", i);
    }
    int tmp = 0;
    ck_assert_int_eq(count_entries(dir, &tmp, NULL), 1);
    ck_assert_int_eq(tmp, 0);
    /* the entry they left is valid: this process hits it */
    cg_compile_options opt = {.cache_dir = dir};
    void *img = NULL;
    size_t size = 0;
    TU_ASSERT_STATUS(cg_compile("selftest", 90, CG_IMAGE_SASS, &opt, &img, &size), O2P_OK);
    assert_cubin(img, size);
    int compiles, hits;
    cg_compile_stats(&compiles, &hits);
    ck_assert_int_eq(compiles, 0);
    ck_assert_int_eq(hits, 1);
    free(img);
    free(dir);
    tu_rmtree(root);
    free(root);
}
END_TEST

START_TEST(test_cache_disabled)
{
    char *home = tu_tempdir();
    setenv("XDG_CACHE_HOME", home, 1);
    setenv("HOME", home, 1);
    cg_compile_options opt = {.cache_dir = ""};
    for (int i = 0; i < 2; i++) {
        void *img = NULL;
        size_t size = 0;
        TU_ASSERT_STATUS(cg_compile("selftest", 80, CG_IMAGE_SASS, &opt, &img, &size), O2P_OK);
        assert_cubin(img, size);
        free(img);
    }
    int compiles, hits;
    cg_compile_stats(&compiles, &hits);
    ck_assert_int_eq(compiles, 2);
    ck_assert_int_eq(hits, 0);
    ck_assert_int_eq(count_entries(home, NULL, NULL), 0);
    tu_rmtree(home);
    free(home);
}
END_TEST

START_TEST(test_cache_default_folders)
{
    char *xdg = tu_tempdir();
    char *home = tu_tempdir();
    setenv("XDG_CACHE_HOME", xdg, 1);
    setenv("HOME", home, 1);
    char *want = tu_printf("%s/onnx2plan/kernels", xdg);
    char *dir = cg_cache_dir(NULL);
    ck_assert_str_eq(dir, want);
    free(dir);
    free(want);
    void *img = NULL;
    size_t size = 0;
    TU_ASSERT_STATUS(cg_compile("selftest", 80, CG_IMAGE_PTX, NULL, &img, &size), O2P_OK);
    free(img);
    want = tu_printf("%s/onnx2plan/kernels", xdg);
    ck_assert_int_eq(count_entries(want, NULL, NULL), 1);
    free(want);

    /* a relative $XDG_CACHE_HOME is invalid (XDG spec): $HOME/.cache */
    setenv("XDG_CACHE_HOME", "relative/cache", 1);
    cg_compile_options opt = {.cache_dir = NULL};
    dir = cg_cache_dir(&opt);
    want = tu_printf("%s/.cache/onnx2plan/kernels", home);
    ck_assert_str_eq(dir, want);
    free(dir);
    unsetenv("XDG_CACHE_HOME");
    TU_ASSERT_STATUS(cg_compile("selftest", 80, CG_IMAGE_PTX, &opt, &img, &size), O2P_OK);
    free(img);
    ck_assert_int_eq(count_entries(want, NULL, NULL), 1);
    free(want);
    tu_rmtree(xdg);
    tu_rmtree(home);
    free(xdg);
    free(home);
}
END_TEST

START_TEST(test_cache_unwritable_is_a_warning)
{
    char *root = tu_tempdir();
    char *file = tu_printf("%s/file", root);
    ck_assert_int_eq(tu_write_file(file, "x", 1), 0);
    /* a folder under a regular file can never be created, even by root */
    char *dir = tu_printf("%s/kernels", file);
    cg_compile_options opt = {.cache_dir = dir};
    captured[0] = '\0';
    o2p_set_logger(capture_log, NULL, O2P_SEVERITY_WARNING);
    for (int i = 0; i < 2; i++) {
        void *img = NULL;
        size_t size = 0;
        TU_ASSERT_STATUS(cg_compile("selftest", 80, CG_IMAGE_SASS, &opt, &img, &size), O2P_OK);
        assert_cubin(img, size);
        free(img);
    }
    o2p_set_logger(NULL, NULL, O2P_SEVERITY_WARNING);
    ck_assert_msg(tu_contains(captured, dir) && tu_contains(captured, "cannot be created"),
                  "warning: %s", captured);
    /* once per process, not once per compile */
    ck_assert_ptr_null(strstr(strstr(captured, "cannot be created") + 1, "cannot be created"));
    free(dir);
    free(file);
    tu_rmtree(root);
    free(root);
}
END_TEST

/* ---------------------------------------------------------------- failures */

START_TEST(test_nvrtc_missing)
{
    setenv("O2P_NVRTC_LIBRARY", "/nonexistent/libnvrtc.so.13", 1);
    void *img = (void *)1;
    size_t size = 1;
    cg_compile_options opt = {.cache_dir = ""};
    TU_ASSERT_STATUS(cg_compile("selftest", 80, CG_IMAGE_SASS, &opt, &img, &size),
                     O2P_ERR_UNSUPPORTED);
    TU_ASSERT_ERROR_HAS("libnvrtc.so.13");
    TU_ASSERT_ERROR_HAS("LD_LIBRARY_PATH");
    ck_assert_ptr_null(img);
    ck_assert_uint_eq(size, 0);
    int archs[8];
    o2p_clear_error();
    ck_assert_int_eq(cg_nvrtc_archs(archs, 8), -1);
    TU_ASSERT_ERROR_HAS("libnvrtc.so.13");
    /* a library that is there but is not NVRTC */
    setenv("O2P_NVRTC_LIBRARY", "libc.so.6", 1);
    TU_ASSERT_STATUS(cg_compile("selftest", 80, CG_IMAGE_SASS, &opt, &img, &size),
                     O2P_ERR_UNSUPPORTED);
    TU_ASSERT_ERROR_HAS("nvrtcVersion");
    /* and back: the override is read at every call */
    unsetenv("O2P_NVRTC_LIBRARY");
    ck_assert_int_gt(cg_nvrtc_archs(archs, 8), 0);
}
END_TEST

START_TEST(test_syntax_error_log)
{
    const char *broken = "#include \"o2p_cuda.h\"\n"
                         "extern \"C\" __global__ void o2p_broken(o2p_i64 n)\n"
                         "{\n"
                         "    int x = ;\n"
                         "}\n";
    void *img = NULL;
    size_t size = 0;
    TU_ASSERT_STATUS(cg_compile_source("broken.cu", broken, 80, CG_IMAGE_SASS, &img, &size),
                     O2P_ERR_INTERNAL);
    ck_assert_ptr_null(img);
    TU_ASSERT_ERROR_HAS("broken.cu(4): error");
    TU_ASSERT_ERROR_HAS("expected an expression");
    TU_ASSERT_ERROR_HAS("sm_80");
    /* the log is trimmed: no trailing newline */
    const char *e = o2p_last_error();
    ck_assert(e[strlen(e) - 1] != '\n');

    /* a very long log is cut, saying how much was left out */
    char *many = malloc(200000);
    ck_assert_ptr_nonnull(many);
    size_t used = 0;
    for (int i = 0; i < 400; i++)
        used += (size_t)snprintf(many + used, 200000 - used, "int f%d = ;\n", i);
    TU_ASSERT_STATUS(cg_compile_source("long.cu", many, 80, CG_IMAGE_PTX, &img, &size),
                     O2P_ERR_INTERNAL);
    TU_ASSERT_ERROR_HAS("long.cu(1): error");
    TU_ASSERT_ERROR_HAS("more bytes of NVRTC log");
    free(many);

    /* no include path: only the embedded headers resolve */
    TU_ASSERT_STATUS(
        cg_compile_source("inc.cu", "#include \"stdio.h\"\n", 80, CG_IMAGE_PTX, &img, &size),
        O2P_ERR_INTERNAL);
    TU_ASSERT_ERROR_HAS("stdio.h");
}
END_TEST

START_TEST(test_bad_arguments)
{
    void *img = NULL;
    size_t size = 0;
    cg_compile_options opt = {.cache_dir = ""};
    TU_ASSERT_STATUS(cg_compile("no_such_family", 80, CG_IMAGE_SASS, &opt, &img, &size),
                     O2P_ERR_INVALID_ARGUMENT);
    TU_ASSERT_ERROR_HAS("no_such_family");
    TU_ASSERT_ERROR_HAS("selftest");
    TU_ASSERT_STATUS(cg_compile("selftest", 12, CG_IMAGE_SASS, &opt, &img, &size),
                     O2P_ERR_UNSUPPORTED);
    TU_ASSERT_ERROR_HAS("sm_12");
    TU_ASSERT_ERROR_HAS("sm_90");
    TU_ASSERT_STATUS(cg_compile("selftest", 80, (cg_image_kind)7, &opt, &img, &size),
                     O2P_ERR_INVALID_ARGUMENT);
    TU_ASSERT_STATUS(cg_compile(NULL, 80, CG_IMAGE_SASS, &opt, &img, &size),
                     O2P_ERR_INVALID_ARGUMENT);
}
END_TEST

/* ---------------------------------------------------------------- hashing */

static void hex(const unsigned char d[32], char out[65])
{
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* A lowering's own constants: the tensor to patch with, their copies, the limit, and
 * patches naming a constant that does not exist refused. */
START_TEST(test_layer_constants)
{
    cg_emit e;
    cg_emit_init(&e);
    int64_t table[3] = {1, 2, 3};
    int c0 = cg_emit_constant(&e, table, sizeof table);
    ck_assert_int_eq(c0, CG_TENSOR_CONSTANT(0));
    table[0] = 9; /* copied */
    ck_assert_int_eq(((const int64_t *)e.constants[0].bytes)[0], 1);
    ck_assert_uint_eq(e.constants[0].size, sizeof table);
    uint64_t params[2] = {0, 0};
    const uint32_t grid[3] = {1, 1, 1}, block[3] = {32, 1, 1};
    cg_launch *k = cg_emit_kernel(&e, "text", "f", grid, block, 0, params, sizeof params);
    cg_launch_ptr(&e, k, 0, c0, 0);
    ck_assert_int_eq(cg_emit_status(&e), O2P_OK);
    ck_assert_int_eq(k->patches[0].tensor, c0);
    cg_launch_ptr(&e, k, 8, CG_TENSOR_CONSTANT(1), 0); /* not made */
    ck_assert_int_eq(cg_emit_status(&e), O2P_ERR_INTERNAL);
    cg_emit_free(&e);

    cg_emit_init(&e);
    for (int i = 0; i < CG_MAX_LAYER_CONSTANTS; i++)
        ck_assert_int_eq(cg_emit_constant(&e, table, 8), CG_TENSOR_CONSTANT(i));
    ck_assert_int_eq(cg_emit_constant(&e, table, 8), -1);
    ck_assert_int_eq(cg_emit_status(&e), O2P_ERR_INTERNAL);
    cg_emit_free(&e);
    cg_emit_init(&e);
    ck_assert_int_eq(cg_emit_constant(&e, table, 0), -1); /* empty */
    cg_emit_free(&e);
}
END_TEST

START_TEST(test_sha256_vectors)
{
    /* FIPS 180-4 examples, plus one million 'a' fed in odd-sized pieces */
    struct {
        const char *text;
        const char *digest;
    } v[] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        cg_sha256 h;
        unsigned char d[32];
        char got[65];
        cg_sha256_init(&h);
        cg_sha256_update(&h, v[i].text, strlen(v[i].text));
        cg_sha256_final(&h, d);
        hex(d, got);
        ck_assert_str_eq(got, v[i].digest);
    }
    char chunk[997];
    memset(chunk, 'a', sizeof chunk);
    cg_sha256 h;
    cg_sha256_init(&h);
    size_t left = 1000000;
    for (size_t piece = 1; left; piece = piece % 990 + 7) {
        size_t n = piece < left ? piece : left;
        cg_sha256_update(&h, chunk, n);
        left -= n;
    }
    unsigned char d[32];
    char got[65];
    cg_sha256_final(&h, d);
    hex(d, got);
    ck_assert_str_eq(got, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}
END_TEST

/* ---------------------------------------------------------------- cost and nvcc */

/* A source of the size and kind the real families have: a shared-memory tiled GEMM
 * instantiated for three tile shapes and two element types, and 16 broadcasting binary ops
 * over four element types (64 kernels). */
static const char realistic_source[] =
    "#include \"o2p_cuda.h\"\n"
    "struct gemm_params { o2p_u64 a_ptr, b_ptr, c_ptr; o2p_i64 m, n, k, lda, ldb, ldc;\n"
    "                     o2p_f32 alpha, beta; };\n"
    "template <typename T> struct io;\n"
    "template <> struct io<float> {\n"
    "  static __device__ float ld(const float *p, o2p_i64 i) { return p[i]; }\n"
    "  static __device__ void st(float *p, o2p_i64 i, float v) { p[i] = v; } };\n"
    "template <> struct io<unsigned short> {\n"
    "  static __device__ float ld(const unsigned short *p, o2p_i64 i) { return "
    "o2p_half_to_float(p[i]); }\n"
    "  static __device__ void st(unsigned short *p, o2p_i64 i, float v) { p[i] = "
    "o2p_float_to_half(v); } };\n"
    "template <typename T, int BM, int BN, int BK, int TM, int TN>\n"
    "__device__ void gemm(const gemm_params &p) {\n"
    "  __shared__ float as[BK][BM + 4];\n"
    "  __shared__ float bs[BK][BN + 4];\n"
    "  const T *a = (const T *)p.a_ptr; const T *b = (const T *)p.b_ptr; T *c = (T *)p.c_ptr;\n"
    "  const int tx = threadIdx.x % (BN / TN), ty = threadIdx.x / (BN / TN);\n"
    "  const o2p_i64 row0 = (o2p_i64)blockIdx.y * BM, col0 = (o2p_i64)blockIdx.x * BN;\n"
    "  float acc[TM][TN];\n"
    "  for (int i = 0; i < TM; i++) for (int j = 0; j < TN; j++) acc[i][j] = 0.f;\n"
    "  const int threads = (BM / TM) * (BN / TN);\n"
    "  for (o2p_i64 k0 = 0; k0 < p.k; k0 += BK) {\n"
    "    for (int e = threadIdx.x; e < BM * BK; e += threads) {\n"
    "      int r = e / BK, kk = e % BK; o2p_i64 gr = row0 + r, gk = k0 + kk;\n"
    "      as[kk][r] = gr < p.m && gk < p.k ? io<T>::ld(a, gr * p.lda + gk) : 0.f; }\n"
    "    for (int e = threadIdx.x; e < BN * BK; e += threads) {\n"
    "      int kk = e / BN, cc = e % BN; o2p_i64 gk = k0 + kk, gc = col0 + cc;\n"
    "      bs[kk][cc] = gk < p.k && gc < p.n ? io<T>::ld(b, gk * p.ldb + gc) : 0.f; }\n"
    "    __syncthreads();\n"
    "#pragma unroll\n"
    "    for (int kk = 0; kk < BK; kk++) {\n"
    "      float ra[TM], rb[TN];\n"
    "#pragma unroll\n"
    "      for (int i = 0; i < TM; i++) ra[i] = as[kk][ty * TM + i];\n"
    "#pragma unroll\n"
    "      for (int j = 0; j < TN; j++) rb[j] = bs[kk][tx * TN + j];\n"
    "#pragma unroll\n"
    "      for (int i = 0; i < TM; i++)\n"
    "#pragma unroll\n"
    "        for (int j = 0; j < TN; j++) acc[i][j] = fmaf(ra[i], rb[j], acc[i][j]);\n"
    "    }\n"
    "    __syncthreads();\n"
    "  }\n"
    "  for (int i = 0; i < TM; i++) for (int j = 0; j < TN; j++) {\n"
    "    o2p_i64 r = row0 + ty * TM + i, cc = col0 + tx * TN + j;\n"
    "    if (r < p.m && cc < p.n) {\n"
    "      float old = p.beta != 0.f ? io<T>::ld(c, r * p.ldc + cc) : 0.f;\n"
    "      io<T>::st(c, r * p.ldc + cc, p.alpha * acc[i][j] + p.beta * old); } }\n"
    "}\n"
    "#define GEMM(name, T, BM, BN, BK, TM, TN) extern \"C\" __global__ void name(const "
    "gemm_params p) { gemm<T, BM, BN, BK, TM, TN>(p); }\n"
    "GEMM(o2p_rt_gemm_64_f32, float, 64, 64, 16, 4, 4)\n"
    "GEMM(o2p_rt_gemm_128_f32, float, 128, 128, 8, 8, 8)\n"
    "GEMM(o2p_rt_gemm_32_f32, float, 32, 32, 32, 2, 2)\n"
    "GEMM(o2p_rt_gemm_64_f16, unsigned short, 64, 64, 16, 4, 4)\n"
    "GEMM(o2p_rt_gemm_128_f16, unsigned short, 128, 128, 8, 8, 8)\n"
    "GEMM(o2p_rt_gemm_32_f16, unsigned short, 32, 32, 32, 2, 2)\n"
    "struct bin_params { o2p_u64 a_ptr, b_ptr, c_ptr; o2p_i64 n; o2p_cu_shape a, b; };\n"
    "template <int OP, typename T> __device__ T bop(T x, T y) {\n"
    "  switch (OP) {\n"
    "  case 0: return x + y; case 1: return x - y; case 2: return x * y;\n"
    "  case 3: return y != T(0) ? x / y : T(0); case 4: return x > y ? x : y;\n"
    "  case 5: return x < y ? x : y; case 6: return T(x == y); case 7: return T(x < y);\n"
    "  case 8: return T(x > y); case 9: return T(x <= y); case 10: return T(x >= y);\n"
    "  case 11: return x * x + y; case 12: return x - y * y; case 13: return (x + y) * T(2);\n"
    "  case 14: return x > T(0) ? x : y; default: return T(pow((double)x, (double)y)); }\n"
    "}\n"
    "template <int OP, typename T> __device__ void binary(const bin_params &p) {\n"
    "  const T *a = (const T *)p.a_ptr; const T *b = (const T *)p.b_ptr; T *c = (T *)p.c_ptr;\n"
    "  O2P_FOR(i, p.n) c[i] = bop<OP, T>(a[o2p_offset(p.a, i)], b[o2p_offset(p.b, i)]);\n"
    "}\n"
    "#define BIN(op) \\\n"
    "  extern \"C\" __global__ void o2p_rt_bin##op##_f32(const bin_params p) { binary<op, "
    "float>(p); } \\\n"
    "  extern \"C\" __global__ void o2p_rt_bin##op##_f64(const bin_params p) { binary<op, "
    "double>(p); } \\\n"
    "  extern \"C\" __global__ void o2p_rt_bin##op##_i32(const bin_params p) { binary<op, "
    "int>(p); } \\\n"
    "  extern \"C\" __global__ void o2p_rt_bin##op##_i64(const bin_params p) { binary<op, long "
    "long>(p); }\n"
    "BIN(0) BIN(1) BIN(2) BIN(3) BIN(4) BIN(5) BIN(6) BIN(7)\n"
    "BIN(8) BIN(9) BIN(10) BIN(11) BIN(12) BIN(13) BIN(14) BIN(15)\n";

START_TEST(test_compile_cost)
{
    struct {
        int arch;
        cg_image_kind kind;
    } runs[] = {{90, CG_IMAGE_SASS}, {80, CG_IMAGE_PTX}};
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        void *img = NULL;
        size_t size = 0;
        double t0 = seconds();
        TU_ASSERT_STATUS(cg_compile_source("realistic.cu", realistic_source, runs[i].arch,
                                           runs[i].kind, &img, &size),
                         O2P_OK);
        printf("realistic source (6 GEMM + 64 binary kernels, %zu bytes) for %s_%d: %.3f s, "
               "%zu bytes\n",
               strlen(realistic_source), runs[i].kind == CG_IMAGE_PTX ? "compute" : "sm",
               runs[i].arch, seconds() - t0, size);
        ck_assert(memmem(img, size, "o2p_rt_gemm_128_f16", 19) != NULL);
        ck_assert(memmem(img, size, "o2p_rt_bin15_i64", 16) != NULL);
        free(img);
    }
}
END_TEST

/* The helpers must compile under nvcc too (the same headers build host-side tools and
 * tests); skipped with a line saying so where there is no nvcc. */
START_TEST(test_selftest_under_nvcc)
{
    const char *nvcc = "/usr/local/cuda/bin/nvcc";
    if (access(nvcc, X_OK) != 0) {
        printf("test_selftest_under_nvcc: SKIPPED: no %s\n", nvcc);
        return;
    }
    char *dir = tu_tempdir();
    char *cmd = tu_printf("%s -std=c++17 -arch=sm_80 -cubin -o %s/selftest.cubin "
                          "%s/kernels/cuda/selftest.cu 2>&1",
                          nvcc, dir, O2P_SOURCE_DIR);
    int rc = system(cmd);
    ck_assert_msg(rc == 0, "%s failed (%d)", cmd, rc);
    char *out = tu_printf("%s/selftest.cubin", dir);
    size_t size = 0;
    char *img = tu_read_file(out, &size);
    ck_assert_ptr_nonnull(img);
    assert_cubin(img, size);
    free(img);
    free(out);
    free(cmd);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

int main(void)
{
    /* Compiles here must not depend on the user's cache or an override in the environment. */
    unsetenv("O2P_NVRTC_LIBRARY");
    Suite *s = suite_create("codegen");
    TCase *tc = tcase_create("sources");
    tcase_add_test(tc, test_embedded_sources);
    tcase_add_test(tc, test_sha256_vectors);
    suite_add_tcase(s, tc);

    tc = tcase_create("nvrtc");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_nvrtc_archs);
    tcase_add_test(tc, test_sass_sm80_sm90);
    tcase_add_test(tc, test_ptx_compute80);
    tcase_add_test(tc, test_nvrtc_missing);
    tcase_add_test(tc, test_syntax_error_log);
    tcase_add_test(tc, test_bad_arguments);
    tcase_add_test(tc, test_layer_constants);
    tcase_add_test(tc, test_compile_cost);
    tcase_add_test(tc, test_selftest_under_nvcc);
    suite_add_tcase(s, tc);

    tc = tcase_create("cache");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_cache_hit);
    tcase_add_test(tc, test_cache_damaged_entries);
    tcase_add_test(tc, test_cache_two_processes);
    tcase_add_test(tc, test_cache_disabled);
    tcase_add_test(tc, test_cache_default_folders);
    tcase_add_test(tc, test_cache_unwritable_is_a_warning);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
