/* npy.h: numpy .npy arrays and .npz archives (a zip of NAME.npy members, stored
 * uncompressed) read and written by onnx2plan's own code, for `onnx2plan run --inputs /
 * --input / --save-outputs` and the test tools. Readers take hostile bytes: every field is
 * checked and every failure is an o2p_status with a message that names the file (and the
 * member of an .npz). */
#ifndef O2P_NPY_H
#define O2P_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "common/common.h"

/* Limits the readers enforce (O2P_ERR_LIMIT beyond them). */
#define NPY_MAX_HEADER_BYTES ((size_t)1 << 20) /* the .npy header dict */
#define NPY_MAX_NPZ_MEMBERS 65535              /* members of one .npz */
#define NPY_MAX_FILE_BYTES ((size_t)1 << 40)   /* a file given to the *_file readers */

/* A dense array. Data is packed, little-endian and in C (row-major) order whatever the file
 * held; a bool is one byte, 0 or 1. count is the product of dims (1 for a scalar, rank 0)
 * and nbytes is count × the element size. Readers return data malloc'ed (never NULL, even
 * for 0 elements), freed by npy_array_free; writers only read it. */
typedef struct npy_array {
    o2p_dtype dtype;
    int rank;
    int64_t dims[O2P_MAX_RANK];
    size_t count;
    size_t nbytes;
    void *data;
} npy_array;

/* The numpy dtype string onnx2plan reads and writes for dtype ("<f4", "|b1", ...), or NULL
 * where numpy has no such type (bfloat16, string, complex, undefined). Numpy types:
 * float16/32/64, int8/16/32/64, uint8/16/32/64, bool. */
const char *npy_descr(o2p_dtype dtype);

/* Bytes per element of a dtype npy_descr knows, 0 for the others. */
size_t npy_dtype_size(o2p_dtype dtype);

/* Fills *a as a view of data (not copied, not owned) after checking rank (0..O2P_MAX_RANK),
 * dims (>= 0), the dtype (one npy_descr knows) and that nbytes fits in memory
 * (O2P_ERR_INVALID_ARGUMENT otherwise). The way to describe an array for the writers. */
o2p_status npy_array_init(npy_array *a, o2p_dtype dtype, int rank, const int64_t *dims,
                          const void *data);

/* Frees the data of an array a reader returned and zeroes *a (a may be NULL). */
void npy_array_free(npy_array *a);

/* ---------------------------------------------------------------- .npy */

/* Reads one .npy (format 1.0, 2.0 or 3.0) from memory into *out (zeroed on failure). what
 * names the source in messages ("in.npy", "in.npz: member 'x.npy'"; NULL: "npy buffer").
 * Big-endian arrays are byte-swapped and fortran_order arrays transposed to C order.
 * O2P_ERR_PARSE: malformed; O2P_ERR_UNSUPPORTED: a valid .npy of a dtype numpy has but
 * onnx2plan does not (objects, strings, complex, structured, ...); O2P_ERR_LIMIT: header
 * over NPY_MAX_HEADER_BYTES or rank over O2P_MAX_RANK. The data size must equal
 * prod(shape) × itemsize exactly. */
o2p_status npy_read_npy_buffer(const void *data, size_t size, const char *what, npy_array *out);

/* npy_read_npy_buffer on the bytes of a file (O2P_ERR_IO when it cannot be read). */
o2p_status npy_read_npy_file(const char *path, npy_array *out);

/* Writes a as .npy format 1.0 byte for byte as numpy's np.save writes the same array
 * (header padded with spaces to a multiple of 64 bytes, ending in '\n'). *out is malloc'ed
 * (free it), *size its length. Bool bytes are written as 0/1. */
o2p_status npy_write_npy_buffer(const npy_array *a, void **out, size_t *size);

/* The same into a file (created or truncated; removed again if writing fails). */
o2p_status npy_write_npy_file(const char *path, const npy_array *a);

/* ---------------------------------------------------------------- .npz */

/* The arrays of an .npz in archive order; names[i] is the member name without ".npy" (it
 * may contain '/' and ':'). Everything is malloc'ed and freed by npy_npz_free. */
typedef struct npy_npz {
    size_t count;
    const char **names;
    npy_array *arrays;
} npy_npz;

/* Reads an .npz from memory into *out (zeroed on failure); what as for npy_read_npy_buffer.
 * Members must be stored (np.savez); deflated ones (np.savez_compressed) are refused with
 * O2P_ERR_UNSUPPORTED. Zip64 records are read. Each member's CRC-32 is verified, members
 * must lie before the central directory without overlapping, names must end in ".npy" and
 * be unique. */
o2p_status npy_read_npz_buffer(const void *data, size_t size, const char *what, npy_npz *out);

/* npy_read_npz_buffer on the bytes of a file. */
o2p_status npy_read_npz_file(const char *path, npy_npz *out);

/* The array named name, or NULL. */
const npy_array *npy_npz_find(const npy_npz *npz, const char *name);

/* Frees everything an npz reader returned and zeroes *npz (npz may be NULL). */
void npy_npz_free(npy_npz *npz);

/* Flags of the .npz writers. */
enum {
    /* Zip64 fields in every header even for small members (numpy writes its local headers
     * so); without it zip64 is used only where a size or offset needs it. For tests. */
    NPY_NPZ_FORCE_ZIP64 = 1u << 0
};

/* Writes count arrays as an uncompressed .npz that np.load reads: member i is
 * names[i] + ".npy" (names non-empty, valid UTF-8, unique). Timestamps are fixed
 * (1980-01-01 00:00), so the same arrays give the same bytes. *out is malloc'ed. */
o2p_status npy_write_npz_buffer(const char *const *names, const npy_array *arrays, size_t count,
                                unsigned flags, void **out, size_t *size);

/* The same into a file (created or truncated; removed again if writing fails). */
o2p_status npy_write_npz_file(const char *path, const char *const *names, const npy_array *arrays,
                              size_t count, unsigned flags);

/* ---------------------------------------------------------------- checksum */

/* Zip's CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320; not CRC-32C) of size bytes,
 * continuing from crc (0 to start): npy_crc32_ieee(0, "123456789", 9) == 0xCBF43926. */
uint32_t npy_crc32_ieee(uint32_t crc, const void *data, size_t size);

#endif
