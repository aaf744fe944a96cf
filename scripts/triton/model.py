"""int8-detect's model for Triton's Python backend (written by `int8-detect export --triton --backend python`).

Runs the exported detector (an INT8 Q/DQ ONNX model on ONNX Runtime, or an INT8 OpenVINO IR on
OpenVINO) inside Triton, for Triton builds that lack the onnxruntime or openvino backend. Only the
network runs here: preprocessing, decoding and NMS stay with the int8-detect client, which reads
the detector's profile from this model's config.pbtxt parameters.

Dynamic batching: Triton hands execute() every request its scheduler gathered; their inputs are
joined along the batch dimension, run once, and the outputs split back per request.
"""
import json
import os

import numpy as np
import triton_python_backend_utils as pb_utils

PREFIX = "int8_detect."


class TritonPythonModel:
    def initialize(self, args):
        config = json.loads(args["model_config"])
        parameters = {key: value.get("string_value", "") for key, value in config.get("parameters", {}).items()}
        runtime = parameters.get(PREFIX + "runtime", "onnxruntime")
        model_file = parameters.get(PREFIX + "model_file", "model.onnx")
        threads = int(parameters.get(PREFIX + "threads", "0") or "0")
        path = os.path.join(args["model_repository"], args["model_version"], model_file)
        self.input_name = config["input"][0]["name"]
        self.output_names = [output["name"] for output in config["output"]]
        # With max_batch_size 0 the model has a fixed batch: requests run one by one.
        self.batched = int(config.get("max_batch_size", 0)) > 0
        if runtime == "onnxruntime":
            self.run = self._onnxruntime(path, threads)
        elif runtime == "openvino":
            self.run = self._openvino(path, threads)
        else:
            raise pb_utils.TritonModelException(
                f"{PREFIX}runtime is {runtime!r}: expected 'onnxruntime' or 'openvino'")

    def _onnxruntime(self, path, threads):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        names = self.output_names
        return lambda batch: session.run(names, {self.input_name: batch})

    def _openvino(self, path, threads):
        import openvino as ov

        core = ov.Core()
        properties = {"PERFORMANCE_HINT": "LATENCY"}
        if threads > 0:
            properties["INFERENCE_NUM_THREADS"] = threads
        compiled = core.compile_model(path, "CPU", properties)
        request = compiled.create_infer_request()
        outputs = [compiled.output(name) for name in self.output_names]

        def run(batch):
            results = request.infer({0: batch})
            return [results[output] for output in outputs]

        return run

    def execute(self, requests):
        inputs = [pb_utils.get_input_tensor_by_name(request, self.input_name).as_numpy() for request in requests]
        try:
            if self.batched:
                joined = inputs[0] if len(inputs) == 1 else np.concatenate(inputs)
                results = self.run(joined)
                counts = [x.shape[0] for x in inputs]
                per_request = []
                start = 0
                for count in counts:
                    per_request.append([output[start:start + count] for output in results])
                    start += count
            else:
                per_request = [self.run(x) for x in inputs]
        except Exception as error:  # the client gets the runtime's message, the server keeps serving
            message = f"int8-detect model.py: {type(error).__name__}: {error}"
            return [pb_utils.InferenceResponse(error=pb_utils.TritonError(message)) for _ in requests]
        return [
            pb_utils.InferenceResponse(output_tensors=[
                pb_utils.Tensor(name, np.ascontiguousarray(output)) for name, output in zip(self.output_names, outputs)
            ])
            for outputs in per_request
        ]
