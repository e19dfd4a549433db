/* fuzz_npy.c: .npy and .npz readers (what `onnx2plan run --inputs/--input` reads) on the same
 * hostile bytes. */
#include "common/npy.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    npy_array a;
    if (npy_read_npy_buffer(data, size, "fuzz.npy", &a) == O2P_OK)
        npy_array_free(&a);
    npy_npz z;
    if (npy_read_npz_buffer(data, size, "fuzz.npz", &z) == O2P_OK)
        npy_npz_free(&z);
    return 0;
}
