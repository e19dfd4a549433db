#!/usr/bin/env python3
"""make_models.py: writes the small ONNX models bundled in models/ (demo and tests).

The models are built with the onnx helper API (no PyTorch), with weights drawn from a fixed
numpy seed, so every run writes the same bytes. Each model is checked with onnx.checker and run
once with onnxruntime before it is written.

    .venv/bin/python models/make_models.py            # (re)write the models next to this file
    .venv/bin/python models/make_models.py --check    # fail if the files on disk differ
    .venv/bin/python models/make_models.py --out-dir DIR
"""

import argparse
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# ONNX 1.12 (Debian 12's libonnx-dev, whose onnx.proto the parser is generated from) knows IR
# version 8 and opsets up to 17. Opset 13 is what many PyTorch exports use.
IR_VERSION = 8
OPSET = 13
PRODUCER = "onnx2plan/models/make_models.py"
PRODUCER_VERSION = "1"
BATCH = "N"


def _rng(seed):
    # RandomState's streams are frozen by numpy's compatibility policy; Generator's are not.
    return np.random.RandomState(seed)


def _weights(rng, name, shape, scale):
    data = (rng.standard_normal(shape) * scale).astype(np.float32)
    return numpy_helper.from_array(data, name)


def _model(graph, doc):
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name=PRODUCER,
        producer_version=PRODUCER_VERSION,
        doc_string=doc,
        ir_version=IR_VERSION,
    )
    model.model_version = 1
    return model


def tiny_cnn():
    """A small image classifier: Nx3x32x32 -> Nx10 class probabilities."""
    rng = _rng(20240601)
    conv1_w = _weights(rng, "conv1.weight", (8, 3, 3, 3), 0.3)
    conv1_b = _weights(rng, "conv1.bias", (8,), 0.1)
    # Scale around 1 and a positive variance, so the normalisation is well conditioned.
    bn_scale = numpy_helper.from_array(
        (1.0 + 0.1 * rng.standard_normal(8)).astype(np.float32), "bn1.scale")
    bn_bias = _weights(rng, "bn1.bias", (8,), 0.1)
    bn_mean = _weights(rng, "bn1.mean", (8,), 0.1)
    bn_var = numpy_helper.from_array(rng.uniform(0.5, 1.5, 8).astype(np.float32), "bn1.var")
    conv2_w = _weights(rng, "conv2.weight", (16, 8, 3, 3), 0.15)
    conv2_b = _weights(rng, "conv2.bias", (16,), 0.1)
    fc_w = _weights(rng, "fc.weight", (10, 16), 0.3)
    fc_b = _weights(rng, "fc.bias", (10,), 0.1)
    inits = [conv1_w, conv1_b, bn_scale, bn_bias, bn_mean, bn_var, conv2_w, conv2_b, fc_w, fc_b]

    nodes = [
        helper.make_node("Conv", ["input", "conv1.weight", "conv1.bias"], ["conv1"],
                         name="conv1", kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1]),
        helper.make_node("BatchNormalization",
                         ["conv1", "bn1.scale", "bn1.bias", "bn1.mean", "bn1.var"], ["bn1"],
                         name="bn1", epsilon=1e-5),
        helper.make_node("Relu", ["bn1"], ["relu1"], name="relu1"),
        helper.make_node("MaxPool", ["relu1"], ["pool1"], name="pool1",
                         kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["pool1", "conv2.weight", "conv2.bias"], ["conv2"],
                         name="conv2", kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1]),
        helper.make_node("Relu", ["conv2"], ["relu2"], name="relu2"),
        helper.make_node("GlobalAveragePool", ["relu2"], ["gap"], name="gap"),
        helper.make_node("Flatten", ["gap"], ["flat"], name="flatten", axis=1),
        helper.make_node("Gemm", ["flat", "fc.weight", "fc.bias"], ["logits"], name="fc",
                         alpha=1.0, beta=1.0, transB=1),
        helper.make_node("Softmax", ["logits"], ["output"], name="softmax", axis=1),
    ]
    graph = helper.make_graph(
        nodes, "tiny_cnn",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [BATCH, 3, 32, 32])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [BATCH, 10])],
        initializer=inits)
    return _model(graph, "Tiny CNN for the onnx2plan demo: Conv+BN+Relu, MaxPool, Conv+Relu, "
                         "GlobalAveragePool, Flatten, Gemm, Softmax; random weights.")


def tiny_mlp_dynamic():
    """An MLP over Nx4x8 inputs, flattened as PyTorch exports x.view(x.size(0), -1)."""
    rng = _rng(20240602)
    inits = [
        _weights(rng, "fc1.weight", (16, 32), 0.25),
        _weights(rng, "fc1.bias", (16,), 0.1),
        _weights(rng, "fc2.weight", (10, 16), 0.3),
        _weights(rng, "fc2.bias", (10,), 0.1),
    ]

    def const(name, values, scalar=False):
        array = np.array(values, dtype=np.int64)
        if scalar:
            array = array.reshape(())
        return helper.make_node("Constant", [], [name], name=name,
                                value=numpy_helper.from_array(array, name + ".value"))

    # The same node pattern (and kinds of names) as torch.onnx.export of a view on the batch.
    nodes = [
        helper.make_node("Shape", ["input"], ["/Shape_output_0"], name="/Shape"),
        const("/Constant_output_0", 0, scalar=True),
        helper.make_node("Gather", ["/Shape_output_0", "/Constant_output_0"],
                         ["/Gather_output_0"], name="/Gather", axis=0),
        const("/Constant_1_output_0", [0]),
        helper.make_node("Unsqueeze", ["/Gather_output_0", "/Constant_1_output_0"],
                         ["/Unsqueeze_output_0"], name="/Unsqueeze"),
        const("/Constant_2_output_0", [-1]),
        helper.make_node("Concat", ["/Unsqueeze_output_0", "/Constant_2_output_0"],
                         ["/Concat_output_0"], name="/Concat", axis=0),
        helper.make_node("Reshape", ["input", "/Concat_output_0"], ["/Reshape_output_0"],
                         name="/Reshape"),
        helper.make_node("Gemm", ["/Reshape_output_0", "fc1.weight", "fc1.bias"],
                         ["/fc1/Gemm_output_0"], name="/fc1/Gemm", alpha=1.0, beta=1.0,
                         transB=1),
        helper.make_node("Relu", ["/fc1/Gemm_output_0"], ["/relu/Relu_output_0"],
                         name="/relu/Relu"),
        helper.make_node("Gemm", ["/relu/Relu_output_0", "fc2.weight", "fc2.bias"], ["output"],
                         name="/fc2/Gemm", alpha=1.0, beta=1.0, transB=1),
    ]
    graph = helper.make_graph(
        nodes, "tiny_mlp_dynamic",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [BATCH, 4, 8])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [BATCH, 10])],
        initializer=inits)
    return _model(graph, "Tiny MLP for onnx2plan: a PyTorch-style dynamic flatten "
                         "(Shape, Gather, Unsqueeze, Concat, Reshape), then Gemm, Relu, Gemm.")


def _reference_mlp(model, x):
    w = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    h = x.reshape(x.shape[0], -1) @ w["fc1.weight"].T + w["fc1.bias"]
    return np.maximum(h, 0.0) @ w["fc2.weight"].T + w["fc2.bias"]


def validate(name, model):
    """Checks the model and runs it with onnxruntime at two batch sizes."""
    import onnxruntime as ort

    onnx.checker.check_model(model, full_check=True)
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(model.SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])
    rng = _rng(7)
    in_shape = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim[1:]]
    for batch in (1, 3):
        x = rng.standard_normal([batch] + in_shape).astype(np.float32)
        (y,) = session.run(None, {"input": x})
        if y.shape != (batch, 10) or not np.all(np.isfinite(y)):
            raise SystemExit(f"{name}: onnxruntime gave shape {y.shape} or non-finite values")
        if name == "tiny_cnn" and not np.allclose(y.sum(axis=1), 1.0, atol=1e-5):
            raise SystemExit(f"{name}: softmax rows do not sum to 1")
        if name == "tiny_mlp_dynamic":
            ref = _reference_mlp(model, x)
            if not np.allclose(y, ref, rtol=1e-4, atol=1e-5):
                raise SystemExit(f"{name}: onnxruntime differs from the numpy reference")


MODELS = {"tiny_cnn": tiny_cnn, "tiny_mlp_dynamic": tiny_mlp_dynamic}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", default=os.path.dirname(os.path.abspath(__file__)),
                        help="folder to write the models to (default: this script's folder)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if a file on disk differs from what "
                             "this script makes")
    args = parser.parse_args()

    stale = []
    for name, make in MODELS.items():
        model = make()
        validate(name, model)
        data = model.SerializeToString()
        path = os.path.join(args.out_dir, name + ".onnx")
        if args.check:
            try:
                with open(path, "rb") as f:
                    same = f.read() == data
            except FileNotFoundError:
                same = False
            print(f"{os.path.relpath(path)}: {'up to date' if same else 'DIFFERS'}")
            if not same:
                stale.append(path)
            continue
        # Write then rename, so that a reader never sees half a model.
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
        print(f"wrote {os.path.relpath(path)} ({len(data)} bytes)")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
