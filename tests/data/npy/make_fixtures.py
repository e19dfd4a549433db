#!/usr/bin/env python3
"""make_fixtures.py: writes the .npy/.npz fixtures of tests/unit/test_npy.c with numpy, and
checks files that onnx2plan wrote by loading them with numpy.

    python make_fixtures.py            # (re)writes the fixtures next to this script
    python make_fixtures.py --check F  # prints one line per array in the .npy/.npz files F...

Deterministic: the same numpy (and zlib, for compressed.npz) give the same bytes; np.savez's
zip timestamps are pinned to 1980-01-01 00:00. The values here are repeated in test_npy.c.
"""
import os
import sys
import time
import zipfile
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))

# Arrays whose np.save bytes onnx2plan's writer must reproduce exactly.
PLAIN = {
    "f2": np.array([[0.0, 1.0, -2.0], [0.5, 65504.0, -0.0]], dtype="<f2"),
    "f4": np.array([[0.0, 1.5, -2.25], [1e30, -0.0, 65504.0]], dtype="<f4"),
    "f8": np.array([[0.0, 1.5, -2.25], [1e300, -0.0, 0.1]], dtype="<f8"),
    "i1": np.array([-128, -1, 0, 1, 127], dtype="|i1"),
    "i2": np.array([[-32768, -1, 0], [1, 300, 32767]], dtype="<i2"),
    "i4": np.array([-2147483648, -1, 0, 1, 2147483647], dtype="<i4"),
    "i8": np.array([[-(2**63), -1], [0, 2**63 - 1]], dtype="<i8"),
    "u1": np.array([0, 1, 128, 255], dtype="|u1"),
    "u2": np.array([0, 1, 65535], dtype="<u2"),
    "u4": np.array([0, 1, 4294967295], dtype="<u4"),
    "u8": np.array([0, 1, 2**64 - 1], dtype="<u8"),
    "b1": np.array([[True, False, True], [False, False, True]]),
    "scalar": np.float64(2.5),
    "empty": np.zeros((0, 3), dtype="<f4"),
    "cube": np.arange(24, dtype="<i2").reshape(2, 3, 4),
}


class _FixedTime:
    """Stands in for the time module inside zipfile so np.savez writes fixed timestamps."""

    @staticmethod
    def time():
        return 315532800.0

    @staticmethod
    def localtime(t=None):
        return time.struct_time((1980, 1, 1, 0, 0, 0, 1, 1, 0))


def savez_fixed(path, compress, **arrays):
    real = zipfile.time
    zipfile.time = _FixedTime
    try:
        (np.savez_compressed if compress else np.savez)(path, **arrays)
    finally:
        zipfile.time = real


def write_version(path, array, version):
    with open(path, "wb") as f:
        np.lib.format.write_array(f, array, version=version)


def make():
    for name, a in PLAIN.items():
        np.save(os.path.join(HERE, name + ".npy"), a)
    # Fortran order, 2-D and 3-D: read back transposed to C order.
    np.save(os.path.join(HERE, "fortran.npy"),
            np.asfortranarray(np.arange(12, dtype="<f4").reshape(3, 4)))
    np.save(os.path.join(HERE, "fortran3.npy"),
            np.asfortranarray(np.arange(24, dtype="<i4").reshape(2, 3, 4)))
    # Big-endian: read back byte-swapped.
    np.save(os.path.join(HERE, "be_i4.npy"),
            np.array([[-2, -1, 0], [1, 2, 0x01020304]], dtype=">i4"))
    np.save(os.path.join(HERE, "be_f8.npy"), np.array([1.5, -2.0], dtype=">f8"))
    np.save(os.path.join(HERE, "be_fortran_u2.npy"),
            np.asfortranarray(np.array([[1, 2, 3], [256, 513, 65535]], dtype=">u2")))
    # Format versions 2.0 and 3.0 (numpy picks them only for huge or non-latin-1 headers).
    write_version(os.path.join(HERE, "v2.npy"), np.array([1.0, 2.0, 3.0], dtype="<f4"), (2, 0))
    write_version(os.path.join(HERE, "v3.npy"), np.array([7, 8], dtype="<i8"), (3, 0))
    # A bool array holding bytes other than 0 and 1: read back as 0/1.
    np.save(os.path.join(HERE, "bool_raw.npy"),
            np.frombuffer(bytes([0, 2, 255, 1]), dtype=np.uint8).view(np.bool_))
    # Types onnx2plan refuses.
    np.save(os.path.join(HERE, "unicode.npy"), np.array(["ab", "c"]))
    np.save(os.path.join(HERE, "object.npy"), np.array([1, None], dtype=object),
            allow_pickle=True)
    np.save(os.path.join(HERE, "complex.npy"), np.array([1 + 2j], dtype="<c8"))
    # Archives.
    savez_fixed(os.path.join(HERE, "several.npz"), False, **{
        "input/0": np.array([[1.0, 2.0], [3.0, 4.0]], dtype="<f4"),
        "layer.1:out": np.array([5, -6, 7], dtype="<i8"),
        "mask": np.bool_(True),
    })
    savez_fixed(os.path.join(HERE, "compressed.npz"), True, x=np.arange(4, dtype="<f4"))


def describe(a):
    """The dtype, the shape and zip's CRC-32 of the C-order bytes: "<f4 (2, 3) 1a2b3c4d"."""
    return "%s %r %08x" % (a.dtype.str, tuple(a.shape), zlib.crc32(a.tobytes("C")) & 0xFFFFFFFF)


def check(paths):
    for path in paths:
        base = os.path.basename(path)
        if path.endswith(".npz"):
            with np.load(path) as z:
                for key in z.files:
                    print("%s:%s %s" % (base, key, describe(z[key])))
        else:
            print("%s %s" % (base, describe(np.load(path))))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--check":
        check(sys.argv[2:])
    else:
        make()
