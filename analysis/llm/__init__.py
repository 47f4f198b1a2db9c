"""The client side of the LLM servers: connecting, asking, reading answers, caching every response.

Owns everything between a prompt and an answer: ``backend`` (what every
backend implements, and the failures it reports), ``ollama_api`` and
``openai_api`` (the two backends: Ollama's API, and OpenAI's chat
completions as vLLM, SGLang and llama-server serve them), ``client`` (the
servers of a run, starting the embedded server for a command), ``asking``
(requests with retries and timeouts, from the cache first), ``spreading``
(a model's reports over the run's servers), ``answers`` (the answer and
``p_yes`` read out of a response), ``cache`` (every raw response, keyed by
what determines it) and ``preflight`` (how each model must be asked on each
server). It knows tasks (``analysis.specs``) and the vocabulary of
``analysis.data``, nothing of stages, metrics or reports; it never imports
``analysis.serving``: the servers it talks to may be a real Ollama or vLLM.
"""
