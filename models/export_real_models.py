#!/usr/bin/env python3
"""Exports real models with PyTorch (torchvision, transformers from configs; no downloads) and
checks `onnx2plan inspect` on each: it must load the model, report no op without an importer,
and infer output shapes equal to onnxruntime's outputs once the dynamic dims are fixed with
--shapes. Runs where torch is installed (the GPU machine); prints one line per model and a
summary, and exits 1 if any model fails.

usage: export_real_models.py ONNX2PLAN OUTDIR
"""
import json
import os
import subprocess
import sys
import time
import traceback

import numpy as np
import torch


def vision_models():
    import torchvision.models as tvm

    yield "resnet18", tvm.resnet18(weights=None), (3, 224, 224)
    yield "mobilenet_v3_small", tvm.mobilenet_v3_small(weights=None), (3, 224, 224)
    yield "efficientnet_b0", tvm.efficientnet_b0(weights=None), (3, 224, 224)
    yield "densenet121", tvm.densenet121(weights=None), (3, 224, 224)
    yield "vit_b_16", tvm.vit_b_16(weights=None), (3, 224, 224)
    yield "convnext_tiny", tvm.convnext_tiny(weights=None), (3, 224, 224)
    yield "swin_t", tvm.swin_t(weights=None), (3, 224, 224)
    yield "deeplabv3_mobilenet", tvm.segmentation.deeplabv3_mobilenet_v3_large(
        weights=None, weights_backbone=None, num_classes=21, aux_loss=False), (3, 256, 256)
    yield "shufflenet_v2", tvm.shufflenet_v2_x1_0(weights=None), (3, 224, 224)
    yield "squeezenet1_1", tvm.squeezenet1_1(weights=None), (3, 224, 224)
    yield "inception_v3", tvm.inception_v3(weights=None, aux_logits=False, init_weights=False), \
        (3, 299, 299)
    yield "regnet_y_400mf", tvm.regnet_y_400mf(weights=None), (3, 224, 224)
    yield "maxvit_t", tvm.maxvit_t(weights=None), (3, 224, 224)


def text_models():
    import transformers as tf

    bert = tf.BertModel(tf.BertConfig(hidden_size=128, num_hidden_layers=2, num_attention_heads=2,
                                      intermediate_size=256, vocab_size=1000))
    yield "bert_tiny", bert
    gpt2 = tf.GPT2Model(tf.GPT2Config(n_embd=128, n_layer=2, n_head=2, vocab_size=1000,
                                      n_positions=128))
    yield "gpt2_tiny", gpt2
    yield "roberta_tiny", tf.RobertaModel(tf.RobertaConfig(
        hidden_size=128, num_hidden_layers=2, num_attention_heads=2, intermediate_size=256,
        vocab_size=1000))
    yield "t5_encoder_tiny", tf.T5EncoderModel(tf.T5Config(
        d_model=128, d_kv=32, d_ff=256, num_layers=2, num_heads=4, vocab_size=1000))


class TextWrapper(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, input_ids):
        return self.m(input_ids=input_ids).last_hidden_state


def export(model, args, path, input_name, dynamic_axes):
    model.eval()
    torch.onnx.export(model, args, path, input_names=[input_name], output_names=["output"],
                      dynamic_axes=dynamic_axes, opset_version=17, dynamo=False)


def check(tool, path, input_name, feed, static_shape):
    """Runs inspect twice (symbolic and with --shapes) and compares with onnxruntime."""
    import onnxruntime as ort

    r = subprocess.run([tool, "inspect", path, "--json"], capture_output=True, text=True)
    if r.returncode != 0:
        return False, "inspect failed (exit %d): %s" % (r.returncode, r.stderr.strip())
    info = json.loads(r.stdout)
    if info["unsupported"]:
        return False, "ops without an importer: %s" % info["unsupported"]
    symbolic = [o["shape"] for o in info["outputs"]]
    shapes_arg = "%s:%s" % (input_name, "x".join(str(d) for d in static_shape))
    r = subprocess.run([tool, "inspect", path, "--json", "--shapes", shapes_arg],
                       capture_output=True, text=True)
    if r.returncode != 0:
        return False, "inspect --shapes failed (exit %d): %s" % (r.returncode, r.stderr.strip())
    fixed = [o["shape"] for o in json.loads(r.stdout)["outputs"]]
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    outs = sess.run(None, {input_name: feed})
    want = [list(o.shape) for o in outs]
    if fixed != want:
        return False, "inferred %s with --shapes, onnxruntime gives %s" % (fixed, want)
    return True, "%d layers, outputs %s (symbolic %s)" % (info["layer_count"], fixed, symbolic)


def main():
    tool, outdir = sys.argv[1], sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    torch.manual_seed(0)
    results = []
    cases = []
    for name, model, chw in vision_models():
        cases.append((name, model, torch.randn(2, *chw), "input", {"input": {0: "N"}}))
    for name, model in text_models():
        cases.append((name, TextWrapper(model), torch.randint(0, 1000, (2, 16)), "input_ids",
                      {"input_ids": {0: "batch", 1: "seq"}}))
    skipped = 0
    for name, model, x, input_name, dyn in cases:
        path = os.path.join(outdir, name + ".onnx")
        t0 = time.time()
        try:
            export(model, (x,), path, input_name, dyn)
        except Exception as e:  # the exporter's failure, not onnx2plan's
            print("%-22s SKIP  PyTorch could not export it: %s: %s" % (name, type(e).__name__, e),
                  flush=True)
            skipped += 1
            continue
        try:
            ok, msg = check(tool, path, input_name, x.numpy(), list(x.shape))
        except Exception as e:  # report and go on with the next model
            ok, msg = False, "%s: %s" % (type(e).__name__, e)
            traceback.print_exc()
        results.append(ok)
        print("%-22s %s  %s  (%.1fs)" % (name, "PASS" if ok else "FAIL", msg, time.time() - t0),
              flush=True)
    print("%d of %d exported real models pass (%d could not be exported)" %
          (sum(results), len(results), skipped))
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
