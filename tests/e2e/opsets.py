#!/usr/bin/env python3
"""opsets.py: the same op at different opsets behaves per its opset (issue 7).

For ops whose inputs and attributes changed between opsets (Split, Squeeze, Unsqueeze, Resize,
Pad, Clip, ReduceSum, ReduceMean, Slice, TopK, Dropout, Upsample) or whose semantics did
(Softmax, LogSoftmax, Hardmax: 2-D coercion before opset 13; Resize's default coordinate
mode), and a TfIdfVectorizer with a large vocabulary, makes one small model per
opset form with the onnx helper API (axes, pads, split, scales ... as an attribute in the old
form, as an input in the new one), builds it into a host plan with onnx2plan, runs it on seeded
random inputs and compares every output with onnxruntime (CPU): float outputs within 1e-5
relative (max|a-b| / max|b|), others exact, shapes equal. Each model is also built for the cuda target offline
(--target cuda --arch sm_90, no GPU needed); with --cuda-run the cuda plan runs too (GPU
machine) and is compared the same way (1e-4: TF32 is off, but the kernels sum in another order).

usage: opsets.py ONNX2PLAN WORKDIR [--kernel-cache DIR] [--no-cuda] [--cuda-run] [--only NAME,...]
"""
import argparse
import os
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

F = TensorProto.FLOAT


def i64(name, vals):
    return numpy_helper.from_array(np.array(vals, dtype=np.int64), name)


def f32(name, vals):
    return numpy_helper.from_array(np.array(vals, dtype=np.float32), name)


def model(name, opset, nodes, inputs, outputs, inits=()):
    g = helper.make_graph(nodes, name,
                          [helper.make_tensor_value_info(n, t, s) for n, t, s in inputs],
                          [helper.make_tensor_value_info(n, t, None) for n, t in outputs],
                          initializer=list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)],
                          producer_name="onnx2plan-opsets")
    m.ir_version = 8 if opset <= 17 else 9
    return m


def cases():
    """(name, model, inputs as {name: array}) for each op and opset form."""
    rng = np.random.RandomState(42)
    x34 = rng.uniform(-2, 2, (3, 6)).astype(np.float32)
    x4 = rng.uniform(-2, 2, (1, 2, 4, 4)).astype(np.float32)
    x1 = rng.uniform(-2, 2, (2, 1, 3, 1)).astype(np.float32)
    out = []

    def add(name, m, feeds):
        out.append((name, m, feeds))

    # Split: split sizes as attribute (11), as input (13), num_outputs (18); equal split.
    n = helper.make_node("Split", ["x"], ["a", "b"], axis=1, split=[2, 4])
    add("split_attr_11", model("s", 11, [n], [("x", F, [3, 6])], [("a", F), ("b", F)]),
        {"x": x34})
    n = helper.make_node("Split", ["x", "split"], ["a", "b"], axis=1)
    add("split_input_13", model("s", 13, [n], [("x", F, [3, 6])], [("a", F), ("b", F)],
                                [i64("split", [4, 2])]), {"x": x34})
    n = helper.make_node("Split", ["x"], ["a", "b", "c"], axis=1, num_outputs=3)
    add("split_num_outputs_18", model("s", 18, [n], [("x", F, [3, 6])],
                                      [("a", F), ("b", F), ("c", F)]), {"x": x34})
    n = helper.make_node("Split", ["x"], ["a", "b"], axis=-1)
    add("split_equal_11", model("s", 11, [n], [("x", F, [3, 6])], [("a", F), ("b", F)]),
        {"x": x34})

    # Squeeze / Unsqueeze: axes attribute (11) vs input (13); Squeeze without axes.
    n = helper.make_node("Squeeze", ["x"], ["y"], axes=[1, -1])
    add("squeeze_attr_11", model("q", 11, [n], [("x", F, [2, 1, 3, 1])], [("y", F)]), {"x": x1})
    n = helper.make_node("Squeeze", ["x", "axes"], ["y"])
    add("squeeze_input_13", model("q", 13, [n], [("x", F, [2, 1, 3, 1])], [("y", F)],
                                  [i64("axes", [3])]), {"x": x1})
    n = helper.make_node("Squeeze", ["x"], ["y"])
    add("squeeze_all_13", model("q", 13, [n], [("x", F, [2, 1, 3, 1])], [("y", F)]), {"x": x1})
    n = helper.make_node("Unsqueeze", ["x"], ["y"], axes=[0, -1])
    add("unsqueeze_attr_11", model("u", 11, [n], [("x", F, [3, 6])], [("y", F)]), {"x": x34})
    n = helper.make_node("Unsqueeze", ["x", "axes"], ["y"])
    add("unsqueeze_input_13", model("u", 13, [n], [("x", F, [3, 6])], [("y", F)],
                                    [i64("axes", [1, 3])]), {"x": x34})

    # Resize: scales only (10), roi + scales + coordinate mode (11), sizes (13), axes (18).
    n = helper.make_node("Resize", ["x", "scales"], ["y"], mode="nearest")
    add("resize_scales_10", model("r", 10, [n], [("x", F, [1, 2, 4, 4])], [("y", F)],
                                  [f32("scales", [1, 1, 2, 1.5])]), {"x": x4})
    n = helper.make_node("Resize", ["x", "roi", "scales"], ["y"], mode="linear",
                         coordinate_transformation_mode="align_corners")
    add("resize_linear_11", model("r", 11, [n], [("x", F, [1, 2, 4, 4])], [("y", F)],
                                  [f32("roi", []), f32("scales", [1, 1, 2, 2])]), {"x": x4})
    n = helper.make_node("Resize", ["x", "", "", "sizes"], ["y"], mode="cubic")
    add("resize_sizes_13", model("r", 13, [n], [("x", F, [1, 2, 4, 4])], [("y", F)],
                                 [i64("sizes", [1, 2, 7, 3])]), {"x": x4})
    n = helper.make_node("Resize", ["x", "", "", "sizes"], ["y"], mode="linear", axes=[3, 2],
                         keep_aspect_ratio_policy="not_larger")
    add("resize_axes_18", model("r", 18, [n], [("x", F, [1, 2, 4, 4])], [("y", F)],
                                [i64("sizes", [6, 5])]), {"x": x4})

    # Pad: pads/value attributes (Pad-2, opset 10), inputs (11), axes input (18).
    n = helper.make_node("Pad", ["x"], ["y"], mode="constant", pads=[0, 1, 2, 0], value=1.5)
    add("pad_attr_10", model("p", 10, [n], [("x", F, [3, 6])], [("y", F)]), {"x": x34})
    n = helper.make_node("Pad", ["x", "pads", "v"], ["y"], mode="reflect")
    add("pad_input_11", model("p", 11, [n], [("x", F, [3, 6])], [("y", F)],
                              [i64("pads", [1, 2, 0, 1]), f32("v", 0.0)]), {"x": x34})
    n = helper.make_node("Pad", ["x", "pads", "v", "axes"], ["y"], mode="edge")
    add("pad_axes_18", model("p", 18, [n], [("x", F, [3, 6])], [("y", F)],
                             [i64("pads", [2, 1]), f32("v", 0.0), i64("axes", [-1])]),
        {"x": x34})

    # Clip: min/max attributes (6, opset 10) vs inputs (11, 13), one bound omitted.
    n = helper.make_node("Clip", ["x"], ["y"], min=-0.5, max=1.0)
    add("clip_attr_10", model("c", 10, [n], [("x", F, [3, 6])], [("y", F)]), {"x": x34})
    n = helper.make_node("Clip", ["x", "lo", "hi"], ["y"])
    add("clip_input_11", model("c", 11, [n], [("x", F, [3, 6])], [("y", F)],
                               [f32("lo", -1.0), f32("hi", 0.25)]), {"x": x34})
    n = helper.make_node("Clip", ["x", "", "hi"], ["y"])
    add("clip_max_only_13", model("c", 13, [n], [("x", F, [3, 6])], [("y", F)],
                                  [f32("hi", 0.5)]), {"x": x34})

    # ReduceSum: axes attribute (11) vs input (13) and noop_with_empty_axes; ReduceMean 13/18.
    n = helper.make_node("ReduceSum", ["x"], ["y"], axes=[1, 3], keepdims=0)
    add("reducesum_attr_11", model("rs", 11, [n], [("x", F, [1, 2, 4, 4])], [("y", F)]),
        {"x": x4})
    n = helper.make_node("ReduceSum", ["x", "axes"], ["y"], keepdims=1)
    add("reducesum_input_13", model("rs", 13, [n], [("x", F, [1, 2, 4, 4])], [("y", F)],
                                    [i64("axes", [-2])]), {"x": x4})
    n = helper.make_node("ReduceSum", ["x"], ["y"], keepdims=0)
    add("reducesum_all_13", model("rs", 13, [n], [("x", F, [1, 2, 4, 4])], [("y", F)]),
        {"x": x4})
    n = helper.make_node("ReduceSum", ["x", "axes"], ["y"], noop_with_empty_axes=1)
    add("reducesum_noop_13", model("rs", 13, [n], [("x", F, [1, 2, 4, 4])], [("y", F)],
                                   [i64("axes", [])]), {"x": x4})
    n = helper.make_node("ReduceMean", ["x"], ["y"], axes=[0])
    add("reducemean_attr_13", model("rm", 13, [n], [("x", F, [3, 6])], [("y", F)]), {"x": x34})
    n = helper.make_node("ReduceMean", ["x", "axes"], ["y"], keepdims=0)
    add("reducemean_input_18", model("rm", 18, [n], [("x", F, [3, 6])], [("y", F)],
                                     [i64("axes", [1])]), {"x": x34})

    # Slice: attributes (opset 9) vs inputs with steps (10, 13).
    n = helper.make_node("Slice", ["x"], ["y"], starts=[1, -4], ends=[3, 100], axes=[0, 1])
    add("slice_attr_9", model("sl", 9, [n], [("x", F, [3, 6])], [("y", F)]), {"x": x34})
    n = helper.make_node("Slice", ["x", "st", "en", "ax", "sp"], ["y"])
    add("slice_input_13", model("sl", 13, [n], [("x", F, [3, 6])], [("y", F)],
                                [i64("st", [-1, 5]), i64("en", [-100, 0]), i64("ax", [1, 0][::-1]),
                                 i64("sp", [-2, -1])]), {"x": x34})

    # TopK: k attribute (opset 9) vs input (10) vs largest/sorted (11).
    n = helper.make_node("TopK", ["x"], ["v", "i"], k=2, axis=1)
    add("topk_attr_9", model("t", 9, [n], [("x", F, [3, 6])],
                             [("v", F), ("i", TensorProto.INT64)]), {"x": x34})
    n = helper.make_node("TopK", ["x", "k"], ["v", "i"], axis=-1)
    add("topk_input_10", model("t", 10, [n], [("x", F, [3, 6])],
                               [("v", F), ("i", TensorProto.INT64)], [i64("k", [3])]), {"x": x34})
    n = helper.make_node("TopK", ["x", "k"], ["v", "i"], axis=0, largest=0)
    add("topk_smallest_11", model("t", 11, [n], [("x", F, [3, 6])],
                                  [("v", F), ("i", TensorProto.INT64)], [i64("k", [2])]),
        {"x": x34})

    # Dropout at inference: ratio attribute (10) vs ratio input (12); Upsample (9) scales input.
    n = helper.make_node("Dropout", ["x"], ["y"], ratio=0.3)
    add("dropout_attr_10", model("d", 10, [n], [("x", F, [3, 6])], [("y", F)]), {"x": x34})
    n = helper.make_node("Dropout", ["x", "r"], ["y"])
    add("dropout_input_12", model("d", 12, [n], [("x", F, [3, 6])], [("y", F)],
                                  [f32("r", 0.3)]), {"x": x34})
    n = helper.make_node("Upsample", ["x", "scales"], ["y"], mode="nearest")
    add("upsample_9", model("up", 9, [n], [("x", F, [1, 2, 4, 4])], [("y", F)],
                            [f32("scales", [1, 1, 2, 3])]), {"x": x4})
    # Same attributes, other semantics: Softmax coerces to 2-D before opset 13 (the result
    # differs on a 3-D input with axis 1); Resize's linear mode samples asymmetric at opset 10
    # and half_pixel by default from 11.
    x3 = rng.uniform(-2, 2, (2, 3, 4)).astype(np.float32)
    for op in ("Softmax", "LogSoftmax", "Hardmax"):
        for opset in (11, 13):
            n = helper.make_node(op, ["x"], ["y"], axis=1)
            add("%s_%d" % (op.lower(), opset), model("sm", opset, [n], [("x", F, [2, 3, 4])],
                                                     [("y", F)]), {"x": x3})
    for opset in (10, 11):
        n = helper.make_node("Resize", ["x", "scales"] if opset == 10 else ["x", "roi", "scales"],
                             ["y"], mode="linear")
        add("resize_linear_default_%d" % opset,
            model("r", opset, [n], [("x", F, [1, 2, 4, 4])], [("y", F)],
                  [f32("scales", [1, 1, 2, 2])] + ([f32("roi", [])] if opset == 11 else [])),
            {"x": x4})
    # TfIdfVectorizer (opset 9) with a vocabulary larger than any parameter block: 200
    # unigrams and 150 bigrams, weighted, on a batch of int64 token ids (the cuda plan carries
    # the n-gram table as a constant of the layer).
    uni = list(range(200))
    bi = [t for k in range(150) for t in (k // 10, k % 10 + 20)]  # each pair once
    n = helper.make_node("TfIdfVectorizer", ["x"], ["y"], mode="TFIDF", min_gram_length=1,
                         max_gram_length=2, max_skip_count=2, ngram_counts=[0, 200],
                         ngram_indexes=list(range(350)), pool_int64s=uni + bi,
                         weights=[0.5 + (k % 7) * 0.25 for k in range(350)])
    add("tfidf_large_vocabulary_9",
        model("tf", 9, [n], [("x", TensorProto.INT64, [4, 50])], [("y", F)]),
        {"x": rng.randint(0, 40, (4, 50)).astype(np.int64)})
    return out


def compare(got, want, names, tol):
    """Largest relative error max|a-b| / max|b| over the outputs; inf on a missing output, a
    shape mismatch or an inexact non-float output."""
    worst = 0.0
    for name, ref in zip(names, want):
        if name not in got.files:
            return float("inf"), "output %s missing" % name
        a, b = got[name], np.asarray(ref)
        if a.shape != b.shape:
            return float("inf"), "output %s has shape %s, onnxruntime %s" % (name, a.shape,
                                                                             b.shape)
        if b.dtype.kind == "f":
            a64, b64 = a.astype(np.float64), b.astype(np.float64)
            if b.size:
                denom = max(float(np.max(np.abs(b64))), 1e-30)
                worst = max(worst, float(np.max(np.abs(a64 - b64))) / denom)
        elif not np.array_equal(a, b):
            return float("inf"), "output %s differs (exact compare)" % name
    return worst, ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tool")
    ap.add_argument("workdir")
    ap.add_argument("--kernel-cache", default="")
    ap.add_argument("--no-cuda", action="store_true")
    ap.add_argument("--cuda-run", action="store_true")
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    only = set(filter(None, args.only.split(",")))
    failures = 0
    count = 0
    for name, m, feeds in cases():
        if only and name not in only:
            continue
        count += 1
        path = os.path.join(args.workdir, name + ".onnx")
        onnx.save(m, path)
        inp = os.path.join(args.workdir, name + ".in.npz")
        np.savez(inp, **feeds)
        sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        want = sess.run(None, feeds)
        names = [o.name for o in sess.get_outputs()]
        targets = [("host", ["--target", "host"], True, 1e-5)]
        if not args.no_cuda:
            cuda = ["--target", "cuda", "--arch", "sm_90", "--no-tf32"]
            if args.kernel_cache:
                cuda += ["--kernel-cache", args.kernel_cache]
            targets.append(("cuda", cuda, args.cuda_run, 1e-4))
        line = []
        for tname, flags, run, tol in targets:
            plan = os.path.join(args.workdir, "%s.%s.plan" % (name, tname))
            r = subprocess.run([args.tool, path, "-o", plan] + flags, capture_output=True,
                               text=True)
            if r.returncode != 0:
                line.append("%s FAIL build: %s" % (tname, r.stderr.strip()))
                failures += 1
                continue
            if not run:
                line.append("%s built" % tname)
                os.remove(plan)
                continue
            outp = os.path.join(args.workdir, "%s.%s.out.npz" % (name, tname))
            r = subprocess.run([args.tool, "run", plan, "--inputs", inp, "--save-outputs", outp,
                                "--iterations", "1", "--warmup", "0"], capture_output=True,
                               text=True)
            if r.returncode != 0:
                line.append("%s FAIL run: %s" % (tname, r.stderr.strip()))
                failures += 1
                continue
            err, why = compare(np.load(outp), want, names, tol)
            ok = err <= tol
            failures += not ok
            line.append("%s %s (rel.err %.1e%s)" % (tname, "PASS" if ok else "FAIL", err,
                                                     ", " + why if why else ""))
            os.remove(plan)
            os.remove(outp)
        print("%-22s opset %-2d  %s" % (name, m.opset_import[0].version, "; ".join(line)),
              flush=True)
        os.remove(path)
        os.remove(inp)
    print("%d of %d opset forms failed" % (failures, count) if failures else
          "all %d opset forms match onnxruntime" % count)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
