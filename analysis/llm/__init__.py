"""The client side of the LLM server: connecting, asking, reading answers, caching every response.

Owns everything between a prompt and an answer: ``client`` (the server at
``OLLAMA_HOST``, its models, starting the embedded server for a command),
``asking`` (requests with retries and timeouts, from the cache first),
``answers`` (the answer and ``p_yes`` read out of a response) and ``cache``
(every raw response, keyed by what determines it). It knows tasks
(``analysis.specs``) and the vocabulary of ``analysis.data``, nothing of
stages, metrics or reports; it never imports ``analysis.serving``: the
server it talks to may be a real Ollama.
"""
