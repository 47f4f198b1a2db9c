"""Label active extravasation in abdominal trauma CT reports with local LLMs, and reproduce the study's tables.

Where a change goes, by subpackage, from the bottom layer up (each imports
only the layers below it; ``make test`` checks this):

- ``config``, ``data``: paths; the vocabulary of labels, sites and statuses;
  reading and writing tables; the development/test split; the demo corpus.
- ``specs``: task and run files (prompts and run settings as data).
- ``llm``: the client side of the LLM servers, Ollama's or OpenAI-compatible ones (asking, spreading reports
  over servers, answers, the response cache).
- ``labeling``: inputs, stage 1, ensemble, stage 2, the rule-based baseline, the manifest.
- ``evaluation``: metrics, intervals, comparisons, thresholds, variants.
- ``reporting``: tables, figures, the reviewer sheet, the README's results.

Beside them: ``serving`` (the embedded Ollama-compatible server, a product
of its own that nothing above imports), ``bench`` (speed against this
machine's limit), ``dependencies`` (what each notebook imports, for the
Makefile) and the command line (``python -m analysis``).
"""

__version__ = "0.1.0"
