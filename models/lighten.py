#!/usr/bin/env python3
"""Makes a "light" copy of an ONNX model, as onnx does for its light test models: every
initializer with more than LIMIT elements becomes a ConstantOfShape node of the same shape
and type, so the graph, its ops and its shapes stay the same while the file gets small.
Used to bring real exported models back from the GPU machine for shape-inference tests.

usage: lighten.py IN.onnx OUT.onnx [LIMIT]
"""
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper


def main():
    src, dst = sys.argv[1], sys.argv[2]
    limit = int(sys.argv[3]) if len(sys.argv) > 3 else 64
    model = onnx.load(src)
    g = model.graph
    keep, nodes = [], []
    for init in g.initializer:
        n = int(np.prod(init.dims)) if len(init.dims) else 1
        if n <= limit:
            keep.append(init)
            continue
        shape = numpy_helper.from_array(np.array(init.dims, dtype=np.int64), init.name + "__shape")
        keep.append(shape)
        value = helper.make_tensor(init.name + "__value", init.data_type, [1],
                                   [0.01] if init.data_type in (1, 10, 11, 16) else [1])
        nodes.append(helper.make_node("ConstantOfShape", [shape.name], [init.name],
                                      value=value, name=init.name + "__fill"))
    del g.initializer[:]
    g.initializer.extend(keep)
    old = list(g.node)
    del g.node[:]
    g.node.extend(nodes + old)
    onnx.save(model, dst)


if __name__ == "__main__":
    main()
