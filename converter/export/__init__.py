"""Write an IR graph out in another format: `onnx_model.export_onnx` (a standard ONNX model)."""
