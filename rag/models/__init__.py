"""The models rag runs, from local files only: embedders (sentence-transformers, or the model's own ONNX
export on ONNX Runtime) and the ONNX exports themselves."""
