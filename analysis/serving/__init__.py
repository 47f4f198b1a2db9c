"""The embedded LLM server: an Ollama-compatible HTTP API on llama.cpp, and the weights it serves.

Owns ``engine`` (one GGUF model in llama.cpp: templating, batching,
log-probabilities), ``server`` (the Ollama API on FastAPI) and ``weights``
(assembling and verifying the model files that registry packages ship). A
product of its own: it may import only ``analysis.config``, and nothing in
the research pipeline imports it (the pipeline talks to it over HTTP, as to
a real Ollama), which ``make test`` checks.
"""
