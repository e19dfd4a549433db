#!/usr/bin/env python3
"""against_onnxruntime.py: builds models into host plans with onnx2plan, runs them on seeded
random inputs with `onnx2plan run`, and compares every output with onnxruntime (CPU) on the
same inputs: relative error max|a-b| / max|b| must be at most 1e-4.

Models: the bundled ones (models/), onnx's light real models (ResNet-50, DenseNet-121,
Inception v1/v2, ShuffleNet, SqueezeNet, VGG-19, AlexNet, ZFNet-512), each also with seeded
random weights instead of the constant ones ("_random", logits compared too), and a
transformer encoder block made here with the onnx helper API. Prints one line per model (error, plan size against
the ONNX size, build and run times) and exits 1 if any model fails.

usage: against_onnxruntime.py ONNX2PLAN WORKDIR [--only NAME,...] [--skip NAME,...]
"""
import argparse
import glob
import os
import subprocess
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TOLERANCE = 1e-4


def encoder_block(path):
    """One pre-LN transformer encoder block: LayerNorm, multi-head self-attention (MatMul,
    Reshape, Transpose, Softmax), residual, LayerNorm, MLP with exact GELU (Erf), residual."""
    rng = np.random.RandomState(7)
    seq, d, heads, ff = 16, 64, 4, 128
    hd = d // heads

    def w(name, shape, scale=0.1):
        return numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32),
                                       name)

    def i64(name, vals):
        return numpy_helper.from_array(np.array(vals, dtype=np.int64), name)

    def f32(name, val):
        return numpy_helper.from_array(np.array(val, dtype=np.float32), name)

    inits = [
        w("ln1.g", (d,), 1.0), w("ln1.b", (d,)), w("wq", (d, d)), w("wk", (d, d)),
        w("wv", (d, d)), w("wo", (d, d)), w("bq", (d,)), w("bo", (d,)),
        w("ln2.g", (d,), 1.0), w("ln2.b", (d,)), w("w1", (d, ff)), w("b1", (ff,)),
        w("w2", (ff, d)), w("b2", (d,)),
        i64("heads_shape", [1, seq, heads, hd]), i64("merge_shape", [1, seq, d]),
        f32("scale", 1.0 / np.sqrt(hd)), f32("sqrt2", np.sqrt(2.0)), f32("half", 0.5),
        f32("one", 1.0),
    ]
    n = helper.make_node
    nodes = [
        n("LayerNormalization", ["x", "ln1.g", "ln1.b"], ["h"], axis=-1, epsilon=1e-5),
        n("MatMul", ["h", "wq"], ["q0"]), n("Add", ["q0", "bq"], ["q"]),
        n("MatMul", ["h", "wk"], ["k"]), n("MatMul", ["h", "wv"], ["v"]),
        n("Reshape", ["q", "heads_shape"], ["qh"]), n("Transpose", ["qh"], ["qt"], perm=[0, 2, 1, 3]),
        n("Reshape", ["k", "heads_shape"], ["kh"]), n("Transpose", ["kh"], ["kt"], perm=[0, 2, 3, 1]),
        n("Reshape", ["v", "heads_shape"], ["vh"]), n("Transpose", ["vh"], ["vt"], perm=[0, 2, 1, 3]),
        n("MatMul", ["qt", "kt"], ["s0"]), n("Mul", ["s0", "scale"], ["s"]),
        n("Softmax", ["s"], ["p"], axis=-1), n("MatMul", ["p", "vt"], ["o0"]),
        n("Transpose", ["o0"], ["o1"], perm=[0, 2, 1, 3]), n("Reshape", ["o1", "merge_shape"], ["o2"]),
        n("MatMul", ["o2", "wo"], ["o3"]), n("Add", ["o3", "bo"], ["o4"]),
        n("Add", ["x", "o4"], ["r1"]),
        n("LayerNormalization", ["r1", "ln2.g", "ln2.b"], ["h2"], axis=-1, epsilon=1e-5),
        n("MatMul", ["h2", "w1"], ["f0"]), n("Add", ["f0", "b1"], ["f1"]),
        n("Div", ["f1", "sqrt2"], ["g0"]), n("Erf", ["g0"], ["g1"]), n("Add", ["g1", "one"], ["g2"]),
        n("Mul", ["f1", "g2"], ["g3"]), n("Mul", ["g3", "half"], ["g4"]),
        n("MatMul", ["g4", "w2"], ["f2"]), n("Add", ["f2", "b2"], ["f3"]),
        n("Add", ["r1", "f3"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes, "encoder_block",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, seq, d])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, seq, d])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="tests/e2e/against_onnxruntime.py")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)


def randomized_light(src, dst):
    """onnx's light models make every weight with ConstantOfShape (all elements equal), which
    hides most numerical errors. This copy gives each such weight seeded random values: He
    scaling for tensors of rank 2 and more, uniform [0.5, 1.5) for vectors (biases and
    normalization parameters, so variances stay positive)."""
    m = onnx.load(src)
    g = m.graph
    inits = {i.name: i for i in g.initializer}
    rng = np.random.RandomState(99)
    keep, new_inits = [], []
    for node in g.node:
        if node.op_type == "ConstantOfShape" and node.input and node.input[0] in inits:
            dims = [int(d) for d in numpy_helper.to_array(inits[node.input[0]])]
            value = helper.get_attribute_value(node.attribute[0]) if node.attribute else None
            dtype = numpy_helper.to_array(value).dtype if value is not None else np.float32
            if dtype != np.float32:
                keep.append(node)
                continue
            if len(dims) >= 2:
                fan_in = max(1, int(np.prod(dims[1:])))
                data = rng.standard_normal(dims) * np.sqrt(2.0 / fan_in)
            else:
                data = rng.uniform(0.5, 1.5, dims)
            new_inits.append(numpy_helper.from_array(data.astype(np.float32), node.output[0]))
        else:
            keep.append(node)
    del g.node[:]
    g.node.extend(keep)
    g.initializer.extend(new_inits)
    # A saturated softmax hides differences in the logits: compare the logits too.
    outputs = {o.name for o in g.output}
    for node in g.node:
        if node.op_type == "Softmax" and node.output[0] in outputs:
            g.output.append(helper.make_empty_tensor_value_info(node.input[0]))
    onnx.save(m, dst)


def models(workdir):
    out = [("tiny_cnn", os.path.join(ROOT, "models", "tiny_cnn.onnx"), {"input": [2, 3, 32, 32]}),
           ("tiny_mlp_dynamic", os.path.join(ROOT, "models", "tiny_mlp_dynamic.onnx"),
            {"input": [3, 4, 8]})]
    enc = os.path.join(workdir, "encoder_block.onnx")
    encoder_block(enc)
    out.append(("encoder_block", enc, {}))
    light = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light")
    for path in sorted(glob.glob(os.path.join(light, "light_*.onnx"))):
        name = os.path.basename(path)[:-5]
        out.append((name, path, {}))
        rnd = os.path.join(workdir, name + "_random.onnx")
        # made only when the model is run, and removed after it (they are big)
        out.append((name + "_random", lambda src=path, dst=rnd: randomized_light(src, dst) or dst,
                    {}))
    return out


def dtype_of(elem):
    return {TensorProto.FLOAT: np.float32, TensorProto.INT64: np.int64,
            TensorProto.INT32: np.int32, TensorProto.BOOL: np.bool_}[elem]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tool")
    ap.add_argument("workdir")
    ap.add_argument("--only", default="")
    ap.add_argument("--skip", default="")
    args = ap.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    only = set(filter(None, args.only.split(",")))
    skip = set(filter(None, args.skip.split(",")))
    failures = 0
    rows = []
    for name, path, fixed in models(args.workdir):
        if (only and name not in only) or name in skip:
            continue
        made = callable(path)
        if made:
            path = path()
        m = onnx.load(path, load_external_data=False)
        inits = {i.name for i in m.graph.initializer}
        rng = np.random.RandomState(1234)
        feeds, shapes = {}, []
        for vi in m.graph.input:
            if vi.name in inits:
                continue
            tt = vi.type.tensor_type
            dims = fixed.get(vi.name) or [d.dim_value if d.HasField("dim_value") else 1
                                           for d in tt.shape.dim]
            feeds[vi.name] = rng.uniform(-1, 1, dims).astype(dtype_of(tt.elem_type))
            shapes.append("%s:%s" % (vi.name, "x".join(str(x) for x in dims)))
        plan = os.path.join(args.workdir, name + ".plan")
        inp = os.path.join(args.workdir, name + ".in.npz")
        outp = os.path.join(args.workdir, name + ".out.npz")
        np.savez(inp, **feeds)
        cmd = [args.tool, path, "-o", plan, "--target", "host"] + (["--shapes", ",".join(shapes)] if shapes else [])
        t0 = time.time()
        r = subprocess.run(cmd, capture_output=True, text=True)
        build_s = time.time() - t0
        if r.returncode != 0:
            print("%-22s FAIL build: %s" % (name, r.stderr.strip()), flush=True)
            failures += 1
            if made:
                os.remove(path)
            continue
        t0 = time.time()
        r = subprocess.run([args.tool, "run", plan, "--inputs", inp, "--save-outputs", outp,
                            "--iterations", "1", "--warmup", "0"], capture_output=True, text=True)
        run_s = time.time() - t0
        if r.returncode != 0:
            print("%-22s FAIL run: %s" % (name, r.stderr.strip()), flush=True)
            failures += 1
            if made:
                os.remove(path)
            continue
        sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        t0 = time.time()
        want = sess.run(None, feeds)
        ort_s = time.time() - t0
        got = np.load(outp)
        worst = 0.0
        for o, ref in zip(sess.get_outputs(), want):
            if o.name not in got.files:
                worst = float("inf")
                break
            a = got[o.name].astype(np.float64)
            b = np.asarray(ref, dtype=np.float64)
            if a.shape != b.shape:
                worst = float("inf")
                break
            denom = max(np.max(np.abs(b)), 1e-30)
            worst = max(worst, float(np.max(np.abs(a - b)) / denom) if b.size else 0.0)
        ok = worst <= TOLERANCE
        failures += not ok
        onnx_size = os.path.getsize(path)
        plan_size = os.path.getsize(plan)
        print("%-22s %s  rel.err %.2e  onnx %9d B  plan %10d B  build %6.2f s  run %7.3f s  "
              "onnxruntime %6.3f s" % (name, "PASS" if ok else "FAIL", worst, onnx_size, plan_size,
                                       build_s, run_s, ort_s), flush=True)
        for f in (plan, inp, outp) + ((path,) if made else ()):
            os.remove(f)
    print("%d model(s) failed" % failures if failures else "all models match onnxruntime")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
