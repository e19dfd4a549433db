/* test_npy.c: .npy and .npz reading and writing (src/common/npy.c) against fixtures numpy
 * wrote (tests/data/npy, made by make_fixtures.py): every dtype, scalars, empty and 3-D
 * arrays, Fortran order, big-endian, format versions 2.0 and 3.0, np.savez and
 * np.savez_compressed; round trips; np.save's exact bytes; numpy loading what we write
 * (when a Python with numpy is at hand); hostile headers and archives, every truncation and
 * single-byte corruptions, which must end in a status with a message and never a crash. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/npy.h"
#include "testutil.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "these tests compare little-endian file bytes with C arrays"
#endif

#define D(...) ((const int64_t[]){__VA_ARGS__})

/* ---------------------------------------------------------------- fixtures */

static const uint16_t f2_data[] = {0x0000, 0x3c00, 0xc000, 0x3800, 0x7bff, 0x8000};
static const float f4_data[] = {0.0f, 1.5f, -2.25f, 1e30f, -0.0f, 65504.0f};
static const double f8_data[] = {0.0, 1.5, -2.25, 1e300, -0.0, 0.1};
static const int8_t i1_data[] = {-128, -1, 0, 1, 127};
static const int16_t i2_data[] = {-32768, -1, 0, 1, 300, 32767};
static const int32_t i4_data[] = {INT32_MIN, -1, 0, 1, INT32_MAX};
static const int64_t i8_data[] = {INT64_MIN, -1, 0, INT64_MAX};
static const uint8_t u1_data[] = {0, 1, 128, 255};
static const uint16_t u2_data[] = {0, 1, 65535};
static const uint32_t u4_data[] = {0, 1, UINT32_MAX};
static const uint64_t u8_data[] = {0, 1, UINT64_MAX};
static const uint8_t b1_data[] = {1, 0, 1, 0, 0, 1};
static const double scalar_data[] = {2.5};
static int16_t cube_data[24];
static float fortran_data[12];
static int32_t fortran3_data[24];
static const int32_t be_i4_data[] = {-2, -1, 0, 1, 2, 0x01020304};
static const double be_f8_data[] = {1.5, -2.0};
static const uint16_t be_fortran_u2_data[] = {1, 2, 3, 256, 513, 65535};
static const float v2_data[] = {1.0f, 2.0f, 3.0f};
static const int64_t v3_data[] = {7, 8};
static const uint8_t bool_raw_data[] = {0, 1, 1, 1};

typedef struct fixture {
    const char *file;
    o2p_dtype dtype;
    int rank;
    int64_t dims[3];
    const void *data;
    size_t nbytes;
    int numpy_bytes; /* np.save wrote it C-order little-endian 1.0: our writer must match */
} fixture;

/* FX(file, dtype, data, numpy_bytes, rank, dims...) */
#define FX(file, dtype, data, same, rank, ...)                                \
    {                                                                         \
        file, O2P_DTYPE_##dtype, rank, {__VA_ARGS__}, data, sizeof data, same \
    }
static const fixture fixtures[] = {
    FX("f2.npy", FLOAT16, f2_data, 1, 2, 2, 3),
    FX("f4.npy", FLOAT, f4_data, 1, 2, 2, 3),
    FX("f8.npy", DOUBLE, f8_data, 1, 2, 2, 3),
    FX("i1.npy", INT8, i1_data, 1, 1, 5),
    FX("i2.npy", INT16, i2_data, 1, 2, 2, 3),
    FX("i4.npy", INT32, i4_data, 1, 1, 5),
    FX("i8.npy", INT64, i8_data, 1, 2, 2, 2),
    FX("u1.npy", UINT8, u1_data, 1, 1, 4),
    FX("u2.npy", UINT16, u2_data, 1, 1, 3),
    FX("u4.npy", UINT32, u4_data, 1, 1, 3),
    FX("u8.npy", UINT64, u8_data, 1, 1, 3),
    FX("b1.npy", BOOL, b1_data, 1, 2, 2, 3),
    FX("scalar.npy", DOUBLE, scalar_data, 1, 0, 0),
    {"empty.npy", O2P_DTYPE_FLOAT, 2, {0, 3}, f4_data, 0, 1},
    FX("cube.npy", INT16, cube_data, 1, 3, 2, 3, 4),
    FX("fortran.npy", FLOAT, fortran_data, 0, 2, 3, 4),
    FX("fortran3.npy", INT32, fortran3_data, 0, 3, 2, 3, 4),
    FX("be_i4.npy", INT32, be_i4_data, 0, 2, 2, 3),
    FX("be_f8.npy", DOUBLE, be_f8_data, 0, 1, 2),
    FX("be_fortran_u2.npy", UINT16, be_fortran_u2_data, 0, 2, 2, 3),
    FX("v2.npy", FLOAT, v2_data, 0, 1, 3),
    FX("v3.npy", INT64, v3_data, 0, 1, 2),
    FX("bool_raw.npy", BOOL, bool_raw_data, 0, 1, 4),
};
#define NUM_FIXTURES (sizeof fixtures / sizeof fixtures[0])

static void fill_ranges(void)
{
    for (int i = 0; i < 24; i++) {
        cube_data[i] = (int16_t)i;
        fortran3_data[i] = i;
    }
    for (int i = 0; i < 12; i++)
        fortran_data[i] = (float)i;
}

static char *fixture_path(const char *name)
{
    return tu_printf("%s/tests/data/npy/%s", O2P_SOURCE_DIR, name);
}

static unsigned char *fixture_bytes(const char *name, size_t *size)
{
    char *path = fixture_path(name);
    unsigned char *b = (unsigned char *)tu_read_file(path, size);
    ck_assert_msg(b != NULL, "cannot read %s", path);
    free(path);
    return b;
}

static void assert_array(const npy_array *a, o2p_dtype dtype, int rank, const int64_t *dims,
                         const void *data, size_t nbytes, const char *what)
{
    ck_assert_msg(a->dtype == dtype, "%s: dtype %d, expected %d", what, a->dtype, dtype);
    ck_assert_msg(a->rank == rank, "%s: rank %d, expected %d", what, a->rank, rank);
    size_t count = 1;
    for (int i = 0; i < rank; i++) {
        ck_assert_msg(a->dims[i] == dims[i], "%s: dim %d is %lld, expected %lld", what, i,
                      (long long)a->dims[i], (long long)dims[i]);
        count *= (size_t)dims[i];
    }
    ck_assert_msg(a->count == count, "%s: count %zu, expected %zu", what, a->count, count);
    ck_assert_msg(a->nbytes == nbytes, "%s: %zu bytes, expected %zu", what, a->nbytes, nbytes);
    ck_assert_msg(a->data != NULL, "%s: no data", what);
    ck_assert_msg(memcmp(a->data, data, nbytes) == 0, "%s: the values differ", what);
}

static void assert_fixture(const npy_array *a, const fixture *f)
{
    assert_array(a, f->dtype, f->rank, f->dims, f->data, f->nbytes, f->file);
}

/* ---------------------------------------------------------------- basics */

START_TEST(test_crc32_ieee)
{
    ck_assert_uint_eq(npy_crc32_ieee(0, "123456789", 9), 0xCBF43926u);
    ck_assert_uint_eq(npy_crc32_ieee(0, "", 0), 0);
    ck_assert_uint_eq(npy_crc32_ieee(npy_crc32_ieee(0, "1234", 4), "56789", 5), 0xCBF43926u);
    /* zlib.crc32(b"The quick brown fox jumps over the lazy dog") */
    const char *fox = "The quick brown fox jumps over the lazy dog";
    ck_assert_uint_eq(npy_crc32_ieee(0, fox, strlen(fox)), 0x414FA339u);
}
END_TEST

START_TEST(test_descr_table)
{
    ck_assert_str_eq(npy_descr(O2P_DTYPE_FLOAT), "<f4");
    ck_assert_str_eq(npy_descr(O2P_DTYPE_FLOAT16), "<f2");
    ck_assert_str_eq(npy_descr(O2P_DTYPE_INT8), "|i1");
    ck_assert_str_eq(npy_descr(O2P_DTYPE_UINT8), "|u1");
    ck_assert_str_eq(npy_descr(O2P_DTYPE_BOOL), "|b1");
    ck_assert_str_eq(npy_descr(O2P_DTYPE_UINT64), "<u8");
    ck_assert_ptr_null(npy_descr(O2P_DTYPE_BFLOAT16));
    ck_assert_ptr_null(npy_descr(O2P_DTYPE_STRING));
    ck_assert_ptr_null(npy_descr(O2P_DTYPE_COMPLEX64));
    ck_assert_ptr_null(npy_descr(O2P_DTYPE_UNDEFINED));
    ck_assert_uint_eq(npy_dtype_size(O2P_DTYPE_DOUBLE), 8);
    ck_assert_uint_eq(npy_dtype_size(O2P_DTYPE_BFLOAT16), 0);

    npy_array a;
    float x[6] = {0};
    TU_ASSERT_STATUS(npy_array_init(&a, O2P_DTYPE_FLOAT, 2, D(2, 3), x), O2P_OK);
    ck_assert_uint_eq(a.count, 6);
    ck_assert_uint_eq(a.nbytes, 24);
    TU_ASSERT_STATUS(npy_array_init(&a, O2P_DTYPE_BFLOAT16, 1, D(6), x), O2P_ERR_INVALID_ARGUMENT);
    TU_ASSERT_ERROR_HAS("bfloat16");
    TU_ASSERT_STATUS(npy_array_init(&a, O2P_DTYPE_FLOAT, 1, D(-1), x), O2P_ERR_INVALID_ARGUMENT);
    TU_ASSERT_STATUS(npy_array_init(&a, O2P_DTYPE_FLOAT, 17, D(1), x), O2P_ERR_INVALID_ARGUMENT);
    TU_ASSERT_STATUS(npy_array_init(&a, O2P_DTYPE_FLOAT, 2, D(INT64_MAX, 2), x),
                     O2P_ERR_INVALID_ARGUMENT);
    TU_ASSERT_STATUS(npy_array_init(&a, O2P_DTYPE_FLOAT, 1, D(2), NULL), O2P_ERR_INVALID_ARGUMENT);
    TU_ASSERT_STATUS(npy_array_init(&a, O2P_DTYPE_FLOAT, 1, D(0), NULL), O2P_OK);
}
END_TEST

/* ---------------------------------------------------------------- fixtures numpy wrote */

START_TEST(test_read_fixtures)
{
    for (size_t i = 0; i < NUM_FIXTURES; i++) {
        char *path = fixture_path(fixtures[i].file);
        npy_array a;
        TU_ASSERT_STATUS(npy_read_npy_file(path, &a), O2P_OK);
        assert_fixture(&a, &fixtures[i]);
        npy_array_free(&a);
        ck_assert_ptr_null(a.data);
        free(path);
    }
}
END_TEST

START_TEST(test_read_from_buffer)
{
    size_t size;
    unsigned char *b = fixture_bytes("cube.npy", &size);
    npy_array a;
    TU_ASSERT_STATUS(npy_read_npy_buffer(b, size, "cube in memory", &a), O2P_OK);
    assert_array(&a, O2P_DTYPE_INT16, 3, D(2, 3, 4), cube_data, sizeof cube_data, "cube");
    npy_array_free(&a);
    TU_ASSERT_STATUS(npy_read_npy_buffer(b, size - 1, "cube in memory", &a), O2P_ERR_PARSE);
    TU_ASSERT_ERROR_HAS("cube in memory");
    TU_ASSERT_ERROR_HAS("truncated");
    TU_ASSERT_STATUS(npy_read_npy_buffer(b, size - 1, NULL, &a), O2P_ERR_PARSE);
    TU_ASSERT_ERROR_HAS("npy buffer");
    free(b);
}
END_TEST

START_TEST(test_our_bytes_equal_numpys)
{
    for (size_t i = 0; i < NUM_FIXTURES; i++) {
        if (!fixtures[i].numpy_bytes)
            continue;
        size_t size, ours_size;
        unsigned char *theirs = fixture_bytes(fixtures[i].file, &size);
        npy_array a;
        void *ours;
        TU_ASSERT_STATUS(npy_read_npy_buffer(theirs, size, fixtures[i].file, &a), O2P_OK);
        TU_ASSERT_STATUS(npy_write_npy_buffer(&a, &ours, &ours_size), O2P_OK);
        ck_assert_msg(ours_size == size && memcmp(ours, theirs, size) == 0,
                      "%s: our %zu bytes differ from numpy's %zu", fixtures[i].file, ours_size,
                      size);
        ck_assert_uint_eq((ours_size - a.nbytes) % 64, 0); /* header: a 64-byte multiple */
        npy_array_free(&a);
        free(ours);
        free(theirs);
    }
}
END_TEST

START_TEST(test_refused_dtypes)
{
    static const struct {
        const char *file, *says;
    } cases[] = {
        {"unicode.npy", "unicode"},
        {"object.npy", "object arrays"},
        {"complex.npy", "complex"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *path = fixture_path(cases[i].file);
        npy_array a;
        TU_ASSERT_STATUS(npy_read_npy_file(path, &a), O2P_ERR_UNSUPPORTED);
        TU_ASSERT_ERROR_HAS(cases[i].says);
        TU_ASSERT_ERROR_HAS(path);
        ck_assert_ptr_null(a.data);
        free(path);
    }
}
END_TEST

START_TEST(test_read_npz_fixture)
{
    char *path = fixture_path("several.npz");
    npy_npz z;
    TU_ASSERT_STATUS(npy_read_npz_file(path, &z), O2P_OK);
    ck_assert_uint_eq(z.count, 3);
    ck_assert_str_eq(z.names[0], "input/0");
    ck_assert_str_eq(z.names[1], "layer.1:out");
    ck_assert_str_eq(z.names[2], "mask");
    static const float in0[] = {1, 2, 3, 4};
    static const int64_t out1[] = {5, -6, 7};
    static const uint8_t mask[] = {1};
    assert_array(npy_npz_find(&z, "input/0"), O2P_DTYPE_FLOAT, 2, D(2, 2), in0, sizeof in0,
                 "input/0");
    assert_array(npy_npz_find(&z, "layer.1:out"), O2P_DTYPE_INT64, 1, D(3), out1, sizeof out1,
                 "layer.1:out");
    assert_array(npy_npz_find(&z, "mask"), O2P_DTYPE_BOOL, 0, NULL, mask, 1, "mask");
    ck_assert_ptr_null(npy_npz_find(&z, "input/0.npy"));
    ck_assert_ptr_null(npy_npz_find(&z, "nothing"));
    npy_npz_free(&z);
    ck_assert_uint_eq(z.count, 0);
    free(path);
}
END_TEST

START_TEST(test_compressed_npz_refused)
{
    char *path = fixture_path("compressed.npz");
    npy_npz z;
    TU_ASSERT_STATUS(npy_read_npz_file(path, &z), O2P_ERR_UNSUPPORTED);
    TU_ASSERT_ERROR_HAS(path);
    TU_ASSERT_ERROR_HAS("member 'x.npy'");
    TU_ASSERT_ERROR_HAS("np.savez_compressed");
    TU_ASSERT_ERROR_HAS("save the arrays with np.savez (uncompressed)");
    ck_assert_uint_eq(z.count, 0);
    ck_assert_ptr_null(z.names);
    free(path);
}
END_TEST

START_TEST(test_wrong_kind_of_file)
{
    size_t npy_size, npz_size;
    unsigned char *npy = fixture_bytes("f4.npy", &npy_size);
    unsigned char *npz = fixture_bytes("several.npz", &npz_size);
    npy_array a;
    npy_npz z;
    TU_ASSERT_STATUS(npy_read_npy_buffer(npz, npz_size, "x", &a), O2P_ERR_PARSE);
    TU_ASSERT_ERROR_HAS("zip archive");
    TU_ASSERT_STATUS(npy_read_npz_buffer(npy, npy_size, "y", &z), O2P_ERR_PARSE);
    TU_ASSERT_ERROR_HAS("an .npy file, not an .npz");
    TU_ASSERT_STATUS(npy_read_npy_buffer("hello", 5, "z", &a), O2P_ERR_PARSE);
    TU_ASSERT_ERROR_HAS("not an .npy file");
    TU_ASSERT_STATUS(npy_read_npz_buffer("hello", 5, "z", &z), O2P_ERR_PARSE);
    TU_ASSERT_ERROR_HAS("not a zip archive");
    TU_ASSERT_STATUS(npy_read_npy_buffer(NULL, 0, "empty", &a), O2P_ERR_PARSE);
    TU_ASSERT_STATUS(npy_read_npz_buffer(NULL, 0, "empty", &z), O2P_ERR_PARSE);
    free(npy);
    free(npz);
}
END_TEST

START_TEST(test_file_errors)
{
    npy_array a;
    npy_npz z;
    TU_ASSERT_STATUS(npy_read_npy_file("/nonexistent/in.npy", &a), O2P_ERR_IO);
    TU_ASSERT_ERROR_HAS("/nonexistent/in.npy");
    TU_ASSERT_STATUS(npy_read_npz_file("/nonexistent/in.npz", &z), O2P_ERR_IO);
    TU_ASSERT_ERROR_HAS("/nonexistent/in.npz");
    char *dir = tu_tempdir();
    TU_ASSERT_STATUS(npy_read_npy_file(dir, &a), O2P_ERR_IO);

    float x[2] = {1, 2};
    npy_array w;
    TU_ASSERT_STATUS(npy_array_init(&w, O2P_DTYPE_FLOAT, 1, D(2), x), O2P_OK);
    TU_ASSERT_STATUS(npy_write_npy_file("/nonexistent/out.npy", &w), O2P_ERR_IO);
    TU_ASSERT_ERROR_HAS("/nonexistent/out.npy");
    const char *names[] = {"x"};
    TU_ASSERT_STATUS(npy_write_npz_file("/nonexistent/out.npz", names, &w, 1, 0), O2P_ERR_IO);
    TU_ASSERT_ERROR_HAS("/nonexistent/out.npz");
    if (access("/dev/full", W_OK) == 0) {
        TU_ASSERT_STATUS(npy_write_npy_file("/dev/full", &w), O2P_ERR_IO);
        struct stat st;
        ck_assert_int_eq(stat("/dev/full", &st), 0); /* a device is never removed */
    }
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* ---------------------------------------------------------------- writing */

/* An array of every dtype, filled with a byte pattern (bools get bytes other than 0/1). */
static const o2p_dtype all_dtypes[] = {
    O2P_DTYPE_FLOAT,  O2P_DTYPE_DOUBLE, O2P_DTYPE_FLOAT16, O2P_DTYPE_INT8,
    O2P_DTYPE_INT16,  O2P_DTYPE_INT32,  O2P_DTYPE_INT64,   O2P_DTYPE_UINT8,
    O2P_DTYPE_UINT16, O2P_DTYPE_UINT32, O2P_DTYPE_UINT64,  O2P_DTYPE_BOOL,
};
#define NUM_DTYPES (sizeof all_dtypes / sizeof all_dtypes[0])

static unsigned char *pattern(size_t nbytes, unsigned seed)
{
    unsigned char *p = malloc(nbytes ? nbytes : 1);
    for (size_t i = 0; i < nbytes; i++)
        p[i] = (unsigned char)(i * 37 + seed * 11 + 5);
    return p;
}

/* What a reader returns for data written from raw: bools as 0/1. */
static void normalize(o2p_dtype dtype, unsigned char *p, size_t n)
{
    if (dtype == O2P_DTYPE_BOOL)
        for (size_t i = 0; i < n; i++)
            p[i] = p[i] != 0;
}

START_TEST(test_roundtrip_every_dtype)
{
    char *dir = tu_tempdir();
    static const struct {
        int rank;
        int64_t dims[O2P_MAX_RANK];
    } shapes[] = {
        {0, {0}},       {1, {7}},          {2, {3, 5}},
        {3, {2, 0, 4}}, {4, {2, 1, 3, 2}}, {16, {1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3}},
        {1, {1000}},
    };
    for (size_t t = 0; t < NUM_DTYPES; t++) {
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            o2p_dtype dtype = all_dtypes[t];
            npy_array a, back;
            size_t n = npy_dtype_size(dtype);
            for (int i = 0; i < shapes[s].rank; i++)
                n *= (size_t)shapes[s].dims[i];
            unsigned char *data = pattern(n, (unsigned)(t * 7 + s));
            TU_ASSERT_STATUS(npy_array_init(&a, dtype, shapes[s].rank, shapes[s].dims, data),
                             O2P_OK);
            unsigned char *want = malloc(n ? n : 1);
            memcpy(want, data, n);
            normalize(dtype, want, n);

            void *bytes;
            size_t size;
            TU_ASSERT_STATUS(npy_write_npy_buffer(&a, &bytes, &size), O2P_OK);
            ck_assert_uint_eq((size - n) % 64, 0);
            TU_ASSERT_STATUS(npy_read_npy_buffer(bytes, size, "round trip", &back), O2P_OK);
            assert_array(&back, dtype, shapes[s].rank, shapes[s].dims, want, n, "buffer");
            npy_array_free(&back);

            char *path = tu_printf("%s/a.npy", dir);
            TU_ASSERT_STATUS(npy_write_npy_file(path, &a), O2P_OK);
            size_t file_size;
            char *file = tu_read_file(path, &file_size);
            ck_assert_msg(file_size == size && memcmp(file, bytes, size) == 0,
                          "the file and the buffer writer disagree");
            TU_ASSERT_STATUS(npy_read_npy_file(path, &back), O2P_OK);
            assert_array(&back, dtype, shapes[s].rank, shapes[s].dims, want, n, "file");
            npy_array_free(&back);
            free(file);
            free(path);
            free(bytes);
            free(want);
            free(data);
        }
    }
    tu_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_write_refusals)
{
    float x[4] = {0};
    npy_array a;
    void *out;
    size_t size;
    TU_ASSERT_STATUS(npy_array_init(&a, O2P_DTYPE_FLOAT, 1, D(4), x), O2P_OK);
    a.dtype = O2P_DTYPE_BFLOAT16;
    TU_ASSERT_STATUS(npy_write_npy_buffer(&a, &out, &size), O2P_ERR_UNSUPPORTED);
    TU_ASSERT_ERROR_HAS("bfloat16");
    ck_assert_ptr_null(out);
    a.dtype = O2P_DTYPE_STRING;
    TU_ASSERT_STATUS(npy_write_npy_buffer(&a, &out, &size), O2P_ERR_UNSUPPORTED);
    a.dtype = O2P_DTYPE_FLOAT;
    a.nbytes = 8;
    TU_ASSERT_STATUS(npy_write_npy_buffer(&a, &out, &size), O2P_ERR_INVALID_ARGUMENT);
    a.nbytes = 16;
    a.dims[0] = -4;
    TU_ASSERT_STATUS(npy_write_npy_buffer(&a, &out, &size), O2P_ERR_INVALID_ARGUMENT);
    a.dims[0] = 4;
    a.rank = 17;
    TU_ASSERT_STATUS(npy_write_npy_buffer(&a, &out, &size), O2P_ERR_INVALID_ARGUMENT);
    a.rank = 1;
    a.data = NULL;
    TU_ASSERT_STATUS(npy_write_npy_buffer(&a, &out, &size), O2P_ERR_INVALID_ARGUMENT);
    a.data = x;

    npy_array two[2] = {a, a};
    const char *dup[] = {"x", "x"};
    TU_ASSERT_STATUS(npy_write_npz_buffer(dup, two, 2, 0, &out, &size), O2P_ERR_INVALID_ARGUMENT);
    TU_ASSERT_ERROR_HAS("member 'x'");
    const char *empty[] = {"x", ""};
    TU_ASSERT_STATUS(npy_write_npz_buffer(empty, two, 2, 0, &out, &size), O2P_ERR_INVALID_ARGUMENT);
    const char *bad_utf8[] = {"x", "\xff\xfe"};
    TU_ASSERT_STATUS(npy_write_npz_buffer(bad_utf8, two, 2, 0, &out, &size),
                     O2P_ERR_INVALID_ARGUMENT);
    TU_ASSERT_ERROR_HAS("UTF-8");
    const char *overlong[] = {"x", "\xc0\xaf"};
    TU_ASSERT_STATUS(npy_write_npz_buffer(overlong, two, 2, 0, &out, &size),
                     O2P_ERR_INVALID_ARGUMENT);
    const char *null_name[] = {"x", NULL};
    TU_ASSERT_STATUS(npy_write_npz_buffer(null_name, two, 2, 0, &out, &size),
                     O2P_ERR_INVALID_ARGUMENT);
    two[1].dtype = O2P_DTYPE_BFLOAT16;
    const char *ok_names[] = {"x", "y"};
    TU_ASSERT_STATUS(npy_write_npz_buffer(ok_names, two, 2, 0, &out, &size), O2P_ERR_UNSUPPORTED);
    TU_ASSERT_ERROR_HAS("member 'y'");
}
END_TEST

/* Arrays with awkward names for the archive tests; arrays[2] is a bool with raw bytes. */
static const char *const npz_names[] = {"input/0", "layer.1:out", "caf\xc3\xa9 \xe2\x9c\x93", "s"};
static float npz_f[6] = {1, 2, 3, 4, 5, 6};
static int64_t npz_i[3] = {5, -6, 7};
static uint8_t npz_b[4] = {0, 2, 255, 1};
static double npz_s[1] = {-0.5};

static void npz_arrays(npy_array *a)
{
    TU_ASSERT_STATUS(npy_array_init(&a[0], O2P_DTYPE_FLOAT, 2, D(2, 3), npz_f), O2P_OK);
    TU_ASSERT_STATUS(npy_array_init(&a[1], O2P_DTYPE_INT64, 1, D(3), npz_i), O2P_OK);
    TU_ASSERT_STATUS(npy_array_init(&a[2], O2P_DTYPE_BOOL, 2, D(2, 2), npz_b), O2P_OK);
    TU_ASSERT_STATUS(npy_array_init(&a[3], O2P_DTYPE_DOUBLE, 0, NULL, npz_s), O2P_OK);
}

static void assert_npz_arrays(const npy_npz *z)
{
    static const uint8_t b01[4] = {0, 1, 1, 1};
    ck_assert_uint_eq(z->count, 4);
    for (int i = 0; i < 4; i++)
        ck_assert_str_eq(z->names[i], npz_names[i]);
    assert_array(&z->arrays[0], O2P_DTYPE_FLOAT, 2, D(2, 3), npz_f, sizeof npz_f, "f");
    assert_array(&z->arrays[1], O2P_DTYPE_INT64, 1, D(3), npz_i, sizeof npz_i, "i");
    assert_array(&z->arrays[2], O2P_DTYPE_BOOL, 2, D(2, 2), b01, 4, "b");
    assert_array(&z->arrays[3], O2P_DTYPE_DOUBLE, 0, NULL, npz_s, 8, "s");
}

START_TEST(test_npz_roundtrip)
{
    npy_array a[4];
    npz_arrays(a);
    char *dir = tu_tempdir();
    for (unsigned flags = 0; flags <= NPY_NPZ_FORCE_ZIP64; flags += NPY_NPZ_FORCE_ZIP64) {
        void *buf, *again;
        size_t size, again_size;
        TU_ASSERT_STATUS(npy_write_npz_buffer(npz_names, a, 4, flags, &buf, &size), O2P_OK);
        TU_ASSERT_STATUS(npy_write_npz_buffer(npz_names, a, 4, flags, &again, &again_size), O2P_OK);
        ck_assert_msg(size == again_size && memcmp(buf, again, size) == 0,
                      "the same arrays gave different archives");
        npy_npz z;
        TU_ASSERT_STATUS(npy_read_npz_buffer(buf, size, "ours", &z), O2P_OK);
        assert_npz_arrays(&z);
        /* What a reader returns goes straight back to the writer, giving the same bytes. */
        void *rewritten;
        size_t rewritten_size;
        TU_ASSERT_STATUS(
            npy_write_npz_buffer(z.names, z.arrays, z.count, flags, &rewritten, &rewritten_size),
            O2P_OK);
        ck_assert(rewritten_size == size && memcmp(rewritten, buf, size) == 0);
        free(rewritten);
        npy_npz_free(&z);

        char *path = tu_printf("%s/out.npz", dir);
        TU_ASSERT_STATUS(npy_write_npz_file(path, npz_names, a, 4, flags), O2P_OK);
        size_t file_size;
        char *file = tu_read_file(path, &file_size);
        ck_assert_msg(file_size == size && memcmp(file, buf, size) == 0,
                      "the file and the buffer writer disagree");
        TU_ASSERT_STATUS(npy_read_npz_file(path, &z), O2P_OK);
        assert_npz_arrays(&z);
        npy_npz_free(&z);
        free(file);
        free(path);
        free(buf);
        free(again);
    }

    /* No arrays: an empty archive (what np.savez(f) writes). */
    void *buf;
    size_t size;
    npy_npz z;
    TU_ASSERT_STATUS(npy_write_npz_buffer(NULL, NULL, 0, 0, &buf, &size), O2P_OK);
    ck_assert_uint_eq(size, 22);
    TU_ASSERT_STATUS(npy_read_npz_buffer(buf, size, "empty", &z), O2P_OK);
    ck_assert_uint_eq(z.count, 0);
    npy_npz_free(&z);
    free(buf);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* ---------------------------------------------------------------- numpy reads ours */

/* The Python to run make_fixtures.py --check with: the project's venv, else python3; NULL
 * when it cannot import numpy. */
static const char *numpy_python(void)
{
    static char python[4096];
    snprintf(python, sizeof python, "%s/.venv/bin/python", O2P_SOURCE_DIR);
    if (access(python, X_OK) != 0)
        snprintf(python, sizeof python, "python3");
    char *cmd = tu_printf("'%s' -c 'import numpy' >/dev/null 2>&1", python);
    int rc = system(cmd);
    free(cmd);
    return rc == 0 ? python : NULL;
}

static char *run_output(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    ck_assert_msg(p != NULL, "cannot run %s", cmd);
    size_t cap = 1 << 16, len = 0, n;
    char *out = malloc(cap);
    while (len < cap - 1 && (n = fread(out + len, 1, cap - 1 - len, p)) > 0)
        len += n;
    out[len] = '\0';
    int rc = pclose(p);
    ck_assert_msg(rc == 0, "%s failed (%d):\n%s", cmd, rc, out);
    return out;
}

/* "<f4 (2, 3) 1a2b3c4d": as make_fixtures.py describes an array. */
static void describe(char *buf, size_t cap, const npy_array *a)
{
    size_t n = (size_t)snprintf(buf, cap, "%s (", npy_descr(a->dtype));
    for (int i = 0; i < a->rank; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%lld", i ? ", " : "", (long long)a->dims[i]);
    snprintf(buf + n, cap - n, "%s) %08x", a->rank == 1 ? "," : "",
             npy_crc32_ieee(0, a->data, a->nbytes));
}

START_TEST(test_numpy_loads_ours)
{
    const char *python = numpy_python();
    if (!python) {
        printf("test_npy: no Python with numpy (.venv or python3): numpy's view of our files "
               "not checked\n");
        return;
    }
    char *dir = tu_tempdir();
    size_t cap = 1 << 16, len = 0;
    char *want = malloc(cap), *files = malloc(cap);
    size_t files_len = 0;
    want[0] = files[0] = '\0';
    char line[512];

    /* Every .npy fixture numpy can express in C order, as we write it. */
    for (size_t i = 0; i < NUM_FIXTURES; i++) {
        char *path = fixture_path(fixtures[i].file);
        npy_array a;
        TU_ASSERT_STATUS(npy_read_npy_file(path, &a), O2P_OK);
        free(path);
        path = tu_printf("%s/ours_%s", dir, fixtures[i].file);
        TU_ASSERT_STATUS(npy_write_npy_file(path, &a), O2P_OK);
        describe(line, sizeof line, &a);
        len += (size_t)snprintf(want + len, cap - len, "ours_%s %s\n", fixtures[i].file, line);
        files_len += (size_t)snprintf(files + files_len, cap - files_len, " '%s'", path);
        npy_array_free(&a);
        free(path);
    }
    /* Rank 16 and a bool with raw bytes. */
    static const uint8_t raw_bool[3] = {7, 0, 1}, raw_bool01[3] = {1, 0, 1};
    npy_array a;
    int64_t dims16[16];
    for (int i = 0; i < 16; i++)
        dims16[i] = i == 15 ? 3 : 1;
    TU_ASSERT_STATUS(npy_array_init(&a, O2P_DTYPE_BOOL, 16, dims16, raw_bool), O2P_OK);
    char *path = tu_printf("%s/rank16.npy", dir);
    TU_ASSERT_STATUS(npy_write_npy_file(path, &a), O2P_OK);
    a.data = (void *)raw_bool01;
    describe(line, sizeof line, &a);
    len += (size_t)snprintf(want + len, cap - len, "rank16.npy %s\n", line);
    files_len += (size_t)snprintf(files + files_len, cap - files_len, " '%s'", path);
    free(path);

    /* Archives, plain and with zip64 records everywhere. */
    npy_array arr[4];
    npz_arrays(arr);
    for (int z64 = 0; z64 <= 1; z64++) {
        const char *name = z64 ? "ours_zip64.npz" : "ours.npz";
        path = tu_printf("%s/%s", dir, name);
        TU_ASSERT_STATUS(npy_write_npz_file(path, npz_names, arr, 4, z64 ? NPY_NPZ_FORCE_ZIP64 : 0),
                         O2P_OK);
        npy_npz z;
        TU_ASSERT_STATUS(npy_read_npz_file(path, &z), O2P_OK);
        for (size_t i = 0; i < z.count; i++) {
            describe(line, sizeof line, &z.arrays[i]);
            len += (size_t)snprintf(want + len, cap - len, "%s:%s %s\n", name, z.names[i], line);
        }
        npy_npz_free(&z);
        files_len += (size_t)snprintf(files + files_len, cap - files_len, " '%s'", path);
        free(path);
    }

    char *cmd = tu_printf("PYTHONIOENCODING=utf-8 '%s' '%s/tests/data/npy/make_fixtures.py' "
                          "--check%s 2>&1",
                          python, O2P_SOURCE_DIR, files);
    char *got = run_output(cmd);
    ck_assert_msg(strcmp(got, want) == 0, "numpy sees:\n%s\nwe expected:\n%s", got, want);
    free(got);
    free(cmd);
    free(want);
    free(files);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* ---------------------------------------------------------------- hostile .npy headers */

/* An .npy of format major.0 whose header is text + '\n', followed by data_len zero bytes. */
static unsigned char *make_npy(int major, const char *text, size_t data_len, size_t *size)
{
    size_t hlen = strlen(text) + 1, prefix = major == 1 ? 10 : 12;
    *size = prefix + hlen + data_len;
    unsigned char *b = calloc(1, *size);
    memcpy(b, "\x93NUMPY", 6);
    b[6] = (unsigned char)major;
    b[7] = 0;
    for (size_t i = 0; i < prefix - 8; i++)
        b[8 + i] = (unsigned char)(hlen >> (8 * i));
    memcpy(b + prefix, text, hlen - 1);
    b[prefix + hlen - 1] = '\n';
    return b;
}

#define HDR(descr, order, shape) \
    "{'descr': '" descr "', 'fortran_order': " order ", 'shape': " shape ", }"

START_TEST(test_hostile_headers)
{
    static const struct {
        int major;
        const char *text;
        size_t data;
        o2p_status want;
        const char *says;
    } cases[] = {
        {1, HDR("<f4", "False", "(2,)"), 8, O2P_OK, NULL},
        {1, "{\"descr\":\"<f4\",\"fortran_order\":False,\"shape\":(2,)}", 8, O2P_OK, NULL},
        {1, "  {'shape': ( 2 , 3 ) ,\n'fortran_order' : True, 'descr': '>i2'}   \t", 12, O2P_OK,
         NULL},
        {1, HDR("|b1", "False", "()"), 1, O2P_OK, NULL},
        {1, HDR("<u1", "False", "(1,)"), 1, O2P_OK, NULL},
        {1, HDR(">i1", "False", "(1,)"), 1, O2P_OK, NULL},
        {1, HDR("<f4", "False", "(3L, 2L)"), 24, O2P_OK, NULL}, /* Python 2 longs */
        {3, HDR("<f4", "False", "(3L, 2L)"), 24, O2P_ERR_PARSE, "not a plain integer"},
        {1, HDR("<f4", "False", "(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1)"), 4, O2P_OK,
         NULL},
        {1, HDR("<f4", "False", "(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1)"), 4,
         O2P_ERR_LIMIT, "more than 16 dimensions"},
        {1, HDR("<f4", "False", "(0, 3)"), 0, O2P_OK, NULL},
        {1, HDR("<f4", "False", "(2)"), 8, O2P_ERR_PARSE, "not a tuple"},
        {1, HDR("<f4", "False", "[2]"), 8, O2P_ERR_PARSE, "list"},
        {1, HDR("<f4", "False", "2"), 8, O2P_ERR_PARSE, "tuple"},
        {1, HDR("<f4", "False", "(-1,)"), 0, O2P_ERR_PARSE, "negative"},
        {1, HDR("<f4", "False", "(2,,)"), 8, O2P_ERR_PARSE, "expected a dimension"},
        {1, HDR("<f4", "False", "(,)"), 8, O2P_ERR_PARSE, "expected a dimension"},
        {1, HDR("<f4", "False", "(02,)"), 8, O2P_ERR_PARSE, "leading zero"},
        {1, HDR("<f4", "False", "(2.0,)"), 8, O2P_ERR_PARSE, "not a plain integer"},
        {1, HDR("<f4", "False", "(2 3)"), 8, O2P_ERR_PARSE, "expected ',' or ')'"},
        {1, HDR("<f4", "False", "(2,"), 8, O2P_ERR_PARSE, "expected"},
        {1, HDR("<f4", "False", "(9223372036854775808,)"), 0, O2P_ERR_LIMIT, "2^63"},
        {1, HDR("<f4", "False", "(4294967296, 4294967296)"), 0, O2P_ERR_LIMIT, "too large"},
        {1, HDR("<f4", "False", "(3037000499, 3037000499)"), 0, O2P_ERR_LIMIT, "too large"},
        {1, HDR("<f4", "False", "(0, 9223372036854775807)"), 0, O2P_ERR_LIMIT, "too large"},
        {1, HDR("<f4", "False", "(1000000000,)"), 8, O2P_ERR_PARSE, "truncated"},
        {1, HDR("<f4", "False", "(2,)"), 7, O2P_ERR_PARSE, "truncated"},
        {1, HDR("<f4", "False", "(2,)"), 9, O2P_ERR_PARSE, "extra bytes"},
        {1, HDR("<f4", "1", "(2,)"), 8, O2P_ERR_PARSE, "True or False"},
        {1, HDR("<f4", "true", "(2,)"), 8, O2P_ERR_PARSE, "True or False"},
        {1, HDR("<f4", "Truee", "(2,)"), 8, O2P_ERR_PARSE, "True or False"},
        {1, HDR("|O", "False", "(2,)"), 16, O2P_ERR_UNSUPPORTED, "object arrays"},
        {1, HDR("<U3", "False", "(2,)"), 24, O2P_ERR_UNSUPPORTED, "unicode"},
        {1, HDR("|S3", "False", "(2,)"), 6, O2P_ERR_UNSUPPORTED, "byte string"},
        {1, HDR("<c16", "False", "(2,)"), 32, O2P_ERR_UNSUPPORTED, "complex"},
        {1, HDR("<M8[ns]", "False", "(2,)"), 16, O2P_ERR_UNSUPPORTED, "datetime"},
        {1, HDR("|V4", "False", "(2,)"), 8, O2P_ERR_UNSUPPORTED, "void"},
        {1, HDR("=f4", "False", "(2,)"), 8, O2P_ERR_UNSUPPORTED, "native byte order"},
        {1, HDR("|f4", "False", "(2,)"), 8, O2P_ERR_UNSUPPORTED, "'|f4' is not supported"},
        {1, HDR("<f16", "False", "(2,)"), 32, O2P_ERR_UNSUPPORTED, "not supported"},
        {1, HDR("<f3", "False", "(2,)"), 6, O2P_ERR_UNSUPPORTED, "not supported"},
        {1, HDR("f4", "False", "(2,)"), 8, O2P_ERR_UNSUPPORTED, "not supported"},
        {1, HDR("", "False", "(2,)"), 8, O2P_ERR_UNSUPPORTED, "not supported"},
        {1, HDR("<f4\\x00", "False", "(2,)"), 8, O2P_ERR_PARSE, "escapes"},
        {1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", 8,
         O2P_ERR_UNSUPPORTED, "structured"},
        {1, "{'descr': '<f4', 'fortran_order': False, }", 8, O2P_ERR_PARSE, "'shape' is missing"},
        {1, "{'descr': '<f4', 'shape': (2,), }", 8, O2P_ERR_PARSE, "'fortran_order' is missing"},
        {1, "{}", 0, O2P_ERR_PARSE, "'descr' is missing"},
        {1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", 8,
         O2P_ERR_PARSE, "twice"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'shape': (2,)}", 8,
         O2P_ERR_PARSE, "twice"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'fortran_order': False, 'shape': (2,)}", 8,
         O2P_ERR_PARSE, "twice"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1}", 8, O2P_ERR_PARSE,
         "unknown key 'extra'"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,),, }", 8, O2P_ERR_PARSE,
         "quoted string"},
        {1, "{'descr': '<f4' 'fortran_order': False, 'shape': (2,)}", 8, O2P_ERR_PARSE,
         "',' or '}'"},
        {1, "{'descr' '<f4', 'fortran_order': False, 'shape': (2,)}", 8, O2P_ERR_PARSE, "':'"},
        {1, "{'descr: '<f4', 'fortran_order': False, 'shape': (2,)}", 8, O2P_ERR_PARSE, "':'"},
        {1, "{'descr': '<f4, 'fortran_order': False, 'shape': (2,)}", 8, O2P_ERR_UNSUPPORTED,
         "'<f4, ' is not supported"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} x", 8, O2P_ERR_PARSE,
         "only spaces"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}}", 8, O2P_ERR_PARSE,
         "only spaces"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)", 8, O2P_ERR_PARSE,
         "the end of the header"},
        {1, "('descr', '<f4')", 8, O2P_ERR_PARSE, "Python dict"},
        {1, "", 8, O2P_ERR_PARSE, "Python dict"},
        {1, "{'descr': '\xc3\xa9', 'fortran_order': False, 'shape': (2,)}", 8, O2P_ERR_UNSUPPORTED,
         "not supported"},
        {3, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", 8, O2P_OK, NULL},
        {2, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", 8, O2P_OK, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t size;
        unsigned char *b = make_npy(cases[i].major, cases[i].text, cases[i].data, &size);
        npy_array a;
        o2p_clear_error();
        o2p_status st = npy_read_npy_buffer(b, size, "hostile.npy", &a);
        ck_assert_msg(st == cases[i].want, "case %zu (%s): %s, expected %s; %s", i, cases[i].text,
                      o2p_status_name(st), o2p_status_name(cases[i].want), o2p_last_error());
        if (st != O2P_OK) {
            TU_ASSERT_ERROR_HAS("hostile.npy: ");
            ck_assert_msg(tu_contains(o2p_last_error(), cases[i].says),
                          "case %zu (%s): the error does not say '%s': %s", i, cases[i].text,
                          cases[i].says, o2p_last_error());
            ck_assert_ptr_null(a.data);
        }
        npy_array_free(&a);
        free(b);
    }
}
END_TEST

START_TEST(test_hostile_prefix)
{
    size_t size;
    unsigned char *b = make_npy(1, HDR("<f4", "False", "(2,)"), 8, &size);
    npy_array a;
    /* Versions. */
    b[6] = 4;
    TU_ASSERT_STATUS(npy_read_npy_buffer(b, size, "v", &a), O2P_ERR_UNSUPPORTED);
    TU_ASSERT_ERROR_HAS("version 4.0");
    b[6] = 0;
    TU_ASSERT_STATUS(npy_read_npy_buffer(b, size, "v", &a), O2P_ERR_UNSUPPORTED);
    b[6] = 1;
    b[7] = 1;
    TU_ASSERT_STATUS(npy_read_npy_buffer(b, size, "v", &a), O2P_ERR_UNSUPPORTED);
    b[7] = 0;
    /* A header length past the end. */
    b[8] = 0xff;
    b[9] = 0xff;
    TU_ASSERT_STATUS(npy_read_npy_buffer(b, size, "v", &a), O2P_ERR_PARSE);
    TU_ASSERT_ERROR_HAS("truncated");
    free(b);

    /* Format 2.0 with a header length over the limit, however few bytes follow. */
    b = make_npy(2, HDR("<f4", "False", "(2,)"), 8, &size);
    b[8] = 0;
    b[9] = 0;
    b[10] = 0x20; /* 2 MiB */
    b[11] = 0;
    TU_ASSERT_STATUS(npy_read_npy_buffer(b, size, "v", &a), O2P_ERR_LIMIT);
    TU_ASSERT_ERROR_HAS("limit");
    b[10] = 0;
    b[11] = 0x80; /* 2 GiB */
    TU_ASSERT_STATUS(npy_read_npy_buffer(b, size, "v", &a), O2P_ERR_LIMIT);
    b[8] = b[9] = b[10] = b[11] = 0xff;
    TU_ASSERT_STATUS(npy_read_npy_buffer(b, size, "v", &a), O2P_ERR_LIMIT);
    free(b);

    /* A NUL byte in the header. */
    b = make_npy(1, HDR("<f4", "False", "(2,)"), 8, &size);
    b[10 + 30] = 0;
    TU_ASSERT_STATUS(npy_read_npy_buffer(b, size, "v", &a), O2P_ERR_PARSE);
    free(b);
}
END_TEST

/* ---------------------------------------------------------------- hostile .npz archives */

static size_t find_bytes(const unsigned char *b, size_t n, const void *needle, size_t len,
                         size_t from)
{
    for (size_t i = from; i + len <= n; i++)
        if (memcmp(b + i, needle, len) == 0)
            return i;
    return SIZE_MAX;
}

static void put16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Two members "first" and "secnd" (names of the same length, for renaming). */
static unsigned char *two_member_npz(unsigned flags, size_t *size)
{
    static const float x[3] = {1, 2, 3};
    static const int32_t y[2] = {4, 5};
    npy_array a[2];
    TU_ASSERT_STATUS(npy_array_init(&a[0], O2P_DTYPE_FLOAT, 1, D(3), x), O2P_OK);
    TU_ASSERT_STATUS(npy_array_init(&a[1], O2P_DTYPE_INT32, 1, D(2), y), O2P_OK);
    const char *names[] = {"first", "secnd"};
    void *buf;
    TU_ASSERT_STATUS(npy_write_npz_buffer(names, a, 2, flags, &buf, size), O2P_OK);
    return buf;
}

/* The central directory entry of member i. */
static unsigned char *central(unsigned char *b, size_t size, int i)
{
    size_t at = 0;
    for (int k = 0; k <= i; k++) {
        at = find_bytes(b, size, "PK\x01\x02", 4, k ? at + 4 : 0);
        ck_assert_uint_ne(at, SIZE_MAX);
    }
    return b + at;
}

static void expect_npz(const unsigned char *b, size_t size, o2p_status want, const char *says)
{
    npy_npz z;
    o2p_clear_error();
    o2p_status st = npy_read_npz_buffer(b, size, "hostile.npz", &z);
    ck_assert_msg(st == want, "%s, expected %s: %s", o2p_status_name(st), o2p_status_name(want),
                  o2p_last_error());
    if (st != O2P_OK) {
        TU_ASSERT_ERROR_HAS("hostile.npz");
        TU_ASSERT_ERROR_HAS(says);
        ck_assert_uint_eq(z.count, 0);
        ck_assert_ptr_null(z.names);
    }
    npy_npz_free(&z);
}

START_TEST(test_hostile_npz)
{
    size_t size;
    unsigned char *b;
    for (unsigned flags = 0; flags <= NPY_NPZ_FORCE_ZIP64; flags += NPY_NPZ_FORCE_ZIP64) {
        b = two_member_npz(flags, &size);
        expect_npz(b, size, O2P_OK, NULL);

        /* A flipped data byte: the CRC catches it. */
        size_t data = find_bytes(b, size, "\x00\x00\x40\x40", 4, 0); /* 3.0f in "first" */
        ck_assert_uint_ne(data, SIZE_MAX);
        b[data + 3] ^= 1;
        expect_npz(b, size, O2P_ERR_PARSE, "member 'first.npy': CRC-32 mismatch");
        b[data + 3] ^= 1;

        /* Both members named "first". */
        unsigned char *renamed = malloc(size);
        memcpy(renamed, b, size);
        for (size_t at = 0; (at = find_bytes(renamed, size, "secnd.npy", 9, at)) != SIZE_MAX;)
            memcpy(renamed + at, "first", 5);
        expect_npz(renamed, size, O2P_ERR_PARSE, "member 'first.npy': appears twice");
        /* A member that is not .npy. */
        memcpy(renamed, b, size);
        for (size_t at = 0; (at = find_bytes(renamed, size, "secnd.npy", 9, at)) != SIZE_MAX;)
            memcpy(renamed + at, "secnd.npz", 9);
        expect_npz(renamed, size, O2P_ERR_UNSUPPORTED, "not an .npy member");
        free(renamed);

        unsigned char *c = central(b, size, 1);
        /* Compressed, other methods, encryption. */
        put16(c + 10, 8);
        expect_npz(b, size, O2P_ERR_UNSUPPORTED, "np.savez (uncompressed)");
        put16(c + 10, 12);
        expect_npz(b, size, O2P_ERR_UNSUPPORTED, "compression method 12");
        put16(c + 10, 0);
        put16(c + 8, 1);
        expect_npz(b, size, O2P_ERR_UNSUPPORTED, "encrypted");
        put16(c + 8, 0);
        /* The local header's method disagrees. */
        unsigned char *l = b + find_bytes(b, size, "PK\x03\x04", 4, 1);
        put16(l + 8, 8);
        expect_npz(b, size, O2P_ERR_PARSE, "method differs");
        put16(l + 8, 0);

        if (!flags) {
            /* The second member's local header moved: outside, or onto the first. */
            uint32_t off = get32(c + 42);
            put32(c + 42, 0xfffffff0u);
            expect_npz(b, size, O2P_ERR_PARSE, "outside the archive's data");
            put32(c + 42, 0);
            expect_npz(b, size, O2P_ERR_PARSE, "name differs");
            put32(c + 42, off);
            /* The first member grown over the second. */
            unsigned char *c0 = central(b, size, 0);
            uint32_t sz = get32(c0 + 20);
            put32(c0 + 20, sz + 10);
            put32(c0 + 24, sz + 10);
            expect_npz(b, size, O2P_ERR_PARSE, "overlaps");
            /* ... or into the central directory. */
            put32(c0 + 20, sz + 1000);
            put32(c0 + 24, sz + 1000);
            expect_npz(b, size, O2P_ERR_PARSE, "runs into the central directory");
            put32(c0 + 20, sz + 1);
            expect_npz(b, size, O2P_ERR_PARSE, "different sizes");
            put32(c0 + 20, sz);
            put32(c0 + 24, sz);
            expect_npz(b, size, O2P_OK, NULL);

            /* The end record: counts, directory size and offset. */
            unsigned char *e = b + size - 22;
            put32(c, 0x02014b51);
            expect_npz(b, size, O2P_ERR_PARSE, "central directory entry 1 is malformed");
            put32(c, 0x02014b50);
            put16(e + 8, 3);
            put16(e + 10, 3);
            expect_npz(b, size, O2P_ERR_PARSE, "do not fit");
            put16(e + 8, 1);
            put16(e + 10, 1);
            expect_npz(b, size, O2P_ERR_PARSE, "stray bytes");
            put16(e + 8, 1);
            put16(e + 10, 2);
            expect_npz(b, size, O2P_ERR_UNSUPPORTED, "multi-disk");
            put16(e + 8, 60000);
            put16(e + 10, 60000);
            expect_npz(b, size, O2P_ERR_PARSE, "do not fit");
            put16(e + 8, 2);
            put16(e + 10, 2);
            put16(e + 4, 1);
            expect_npz(b, size, O2P_ERR_UNSUPPORTED, "multi-disk");
            put16(e + 4, 0);
            uint32_t cd_off = get32(e + 16);
            put32(e + 16, cd_off - 1);
            expect_npz(b, size, O2P_ERR_PARSE, "does not end where");
            put32(e + 16, 0xffffffffu);
            expect_npz(b, size, O2P_ERR_PARSE, "does not end where");
            put32(e + 16, cd_off);
            /* A comment the record does not declare; then one it does. */
            unsigned char *longer = malloc(size + 5);
            memcpy(longer, b, size);
            memcpy(longer + size, "hello", 5);
            expect_npz(longer, size + 5, O2P_ERR_PARSE, "no end-of-central-directory");
            put16(longer + size - 22 + 20, 5);
            expect_npz(longer, size + 5, O2P_OK, NULL);
            free(longer);
            expect_npz(b, size, O2P_OK, NULL);
        } else {
            /* Zip64: the count in the zip64 record, the records disagreeing, the locator. */
            size_t z = find_bytes(b, size, "PK\x06\x06", 4, 0);
            ck_assert_uint_ne(z, SIZE_MAX);
            put32(b + z + 24, 70000);
            put32(b + z + 32, 70000);
            expect_npz(b, size, O2P_ERR_LIMIT, "more than the limit");
            put32(b + z + 24, 2);
            put32(b + z + 32, 2);
            unsigned char *e = b + size - 22;
            put16(e + 10, 3);
            expect_npz(b, size, O2P_ERR_PARSE, "disagree");
            put16(e + 10, 2); /* the true value is fine too */
            put16(e + 8, 2);
            expect_npz(b, size, O2P_OK, NULL);
            unsigned char *loc = b + size - 22 - 20;
            put32(loc + 16, 2);
            expect_npz(b, size, O2P_ERR_UNSUPPORTED, "multi-disk");
            put32(loc + 16, 1);
            put32(loc + 8, (uint32_t)z - 1);
            expect_npz(b, size, O2P_ERR_PARSE, "zip64 end-of-central-directory");
            put32(loc + 8, 0xfffffff0u);
            expect_npz(b, size, O2P_ERR_PARSE, "outside the archive");
            put32(loc + 8, (uint32_t)z);
            /* A zip64 extra field too short for the fields it must hold. */
            unsigned char *c1 = central(b, size, 1);
            put16(c1 + 46 + 9 + 2, 16);
            expect_npz(b, size, O2P_ERR_PARSE, "zip64 extra field is too short");
            put16(c1 + 46 + 9 + 2, 40);
            expect_npz(b, size, O2P_ERR_PARSE, "runs past");
            put16(c1 + 46 + 9 + 2, 24);
            expect_npz(b, size, O2P_OK, NULL);
        }
        free(b);
    }
}
END_TEST

START_TEST(test_npz_member_errors_name_file_and_member)
{
    /* An intact archive whose member is an .npy of a refused dtype: the message names the
     * file, the member and the problem. */
    static const float x[2] = {1, 2};
    npy_array a;
    TU_ASSERT_STATUS(npy_array_init(&a, O2P_DTYPE_FLOAT, 1, D(2), x), O2P_OK);
    const char *names[] = {"model/input:0"};
    void *buf;
    size_t size;
    TU_ASSERT_STATUS(npy_write_npz_buffer(names, &a, 1, 0, &buf, &size), O2P_OK);
    unsigned char *b = buf;
    size_t descr = find_bytes(b, size, "'<f4'", 5, 0);
    ck_assert_uint_ne(descr, SIZE_MAX);
    memcpy(b + descr, "'<U1'", 5);
    /* A CRC to match, so the member reaches the .npy reader. */
    unsigned char *c = central(b, size, 0);
    size_t data = find_bytes(b, size, "\x93NUMPY", 6, 0);
    uint32_t crc = npy_crc32_ieee(0, b + data, get32(c + 20));
    put32(b + 14, crc);
    put32(c + 16, crc);
    char *dir = tu_tempdir();
    char *path = tu_printf("%s/inputs.npz", dir);
    ck_assert_int_eq(tu_write_file(path, b, size), 0);
    npy_npz z;
    TU_ASSERT_STATUS(npy_read_npz_file(path, &z), O2P_ERR_UNSUPPORTED);
    TU_ASSERT_ERROR_HAS(path);
    TU_ASSERT_ERROR_HAS("member 'model/input:0.npy'");
    TU_ASSERT_ERROR_HAS("unicode");
    free(path);
    free(buf);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* ---------------------------------------------------------------- truncation, corruption */

/* Every proper prefix must be refused with a message. */
static void every_truncation(const unsigned char *b, size_t size, int npz, const char *what)
{
    for (size_t n = 0; n < size; n++) {
        /* A copy of exactly n bytes, so ASan sees any read past the end. */
        unsigned char *cut = malloc(n ? n : 1);
        memcpy(cut, b, n);
        o2p_clear_error();
        o2p_status st;
        if (npz) {
            npy_npz z;
            st = npy_read_npz_buffer(cut, n, what, &z);
            npy_npz_free(&z);
        } else {
            npy_array a;
            st = npy_read_npy_buffer(cut, n, what, &a);
            npy_array_free(&a);
        }
        ck_assert_msg(st != O2P_OK, "%s cut to %zu of %zu bytes was accepted", what, n, size);
        ck_assert_msg(o2p_last_error()[0] != '\0', "%s cut to %zu bytes: no message", what, n);
        free(cut);
    }
}

START_TEST(test_every_truncation)
{
    static const char *npys[] = {"f4.npy", "fortran3.npy", "v2.npy",
                                 "v3.npy", "scalar.npy",   "empty.npy"};
    for (size_t i = 0; i < sizeof npys / sizeof npys[0]; i++) {
        size_t size;
        unsigned char *b = fixture_bytes(npys[i], &size);
        every_truncation(b, size, 0, npys[i]);
        free(b);
    }
    size_t size;
    unsigned char *b = fixture_bytes("several.npz", &size);
    every_truncation(b, size, 1, "several.npz");
    free(b);
    b = two_member_npz(0, &size);
    every_truncation(b, size, 1, "ours.npz");
    free(b);
    b = two_member_npz(NPY_NPZ_FORCE_ZIP64, &size);
    every_truncation(b, size, 1, "ours_zip64.npz");
    free(b);
}
END_TEST

/* Every byte set to a few values: never a crash, a failure always has a message. */
static void every_corruption(const unsigned char *b, size_t size, int npz, const char *what)
{
    static const int values[] = {0x00, 0xff, 0x7f, 0x80, '0', '9', ' ', ',',
                                 '(',  ')',  '\'', '}',  'L', '<', '>', -1 /* b ^ 1 */,
                                 -2 /* b ^ 0x80 */};
    unsigned char *c = malloc(size);
    for (size_t i = 0; i < size; i++) {
        for (size_t v = 0; v < sizeof values / sizeof values[0]; v++) {
            memcpy(c, b, size);
            c[i] = values[v] == -1   ? (unsigned char)(b[i] ^ 1)
                   : values[v] == -2 ? (unsigned char)(b[i] ^ 0x80)
                                     : (unsigned char)values[v];
            o2p_clear_error();
            o2p_status st;
            if (npz) {
                npy_npz z;
                st = npy_read_npz_buffer(c, size, what, &z);
                if (st == O2P_OK)
                    for (size_t k = 0; k < z.count; k++)
                        ck_assert(z.arrays[k].data != NULL && z.names[k] != NULL);
                npy_npz_free(&z);
            } else {
                npy_array a;
                st = npy_read_npy_buffer(c, size, what, &a);
                if (st == O2P_OK)
                    ck_assert(a.data != NULL && a.rank >= 0 && a.rank <= O2P_MAX_RANK);
                npy_array_free(&a);
            }
            if (st != O2P_OK)
                ck_assert_msg(o2p_last_error()[0] != '\0',
                              "%s with byte %zu set to 0x%02x: %s without a message", what, i, c[i],
                              o2p_status_name(st));
        }
    }
    free(c);
}

START_TEST(test_single_byte_corruptions)
{
    static const char *npys[] = {"f4.npy", "fortran3.npy", "be_fortran_u2.npy", "v3.npy", "b1.npy"};
    for (size_t i = 0; i < sizeof npys / sizeof npys[0]; i++) {
        size_t size;
        unsigned char *b = fixture_bytes(npys[i], &size);
        every_corruption(b, size, 0, npys[i]);
        free(b);
    }
    size_t size;
    unsigned char *b = fixture_bytes("several.npz", &size);
    every_corruption(b, size, 1, "several.npz");
    free(b);
    b = two_member_npz(NPY_NPZ_FORCE_ZIP64, &size);
    every_corruption(b, size, 1, "ours_zip64.npz");
    free(b);
}
END_TEST

int main(void)
{
    fill_ranges();
    tu_quiet_log();
    Suite *s = suite_create("npy");
    TCase *tc = tcase_create("read");
    tcase_add_test(tc, test_crc32_ieee);
    tcase_add_test(tc, test_descr_table);
    tcase_add_test(tc, test_read_fixtures);
    tcase_add_test(tc, test_read_from_buffer);
    tcase_add_test(tc, test_our_bytes_equal_numpys);
    tcase_add_test(tc, test_refused_dtypes);
    tcase_add_test(tc, test_read_npz_fixture);
    tcase_add_test(tc, test_compressed_npz_refused);
    tcase_add_test(tc, test_wrong_kind_of_file);
    tcase_add_test(tc, test_file_errors);
    suite_add_tcase(s, tc);

    tc = tcase_create("write");
    tcase_add_test(tc, test_roundtrip_every_dtype);
    tcase_add_test(tc, test_write_refusals);
    tcase_add_test(tc, test_npz_roundtrip);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_numpy_loads_ours);
    suite_add_tcase(s, tc);

    tc = tcase_create("hostile");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_hostile_headers);
    tcase_add_test(tc, test_hostile_prefix);
    tcase_add_test(tc, test_hostile_npz);
    tcase_add_test(tc, test_npz_member_errors_name_file_and_member);
    tcase_add_test(tc, test_every_truncation);
    tcase_add_test(tc, test_single_byte_corruptions);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
